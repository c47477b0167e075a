"""Model compression: ONNX export, INT8 quantization, structured pruning, distillation.

A generic library over any ``torch.nn.Module`` (no domain imports); ``targets.py`` (with
``body_target.py`` and ``recsys_target.py``) is the one adapter that knows fitroom's own
models. Import from the modules:

- ``export``: ``InputSpec``, ``export_onnx``, ``check_equivalence``
- ``quantize``: ``quantize_onnx`` (static QDQ or dynamic, chosen by op counts)
- ``prune``: ``prune_channels`` (L1-norm, whole channels), ``fine_tune``
- ``distill``: ``distill``, ``compare_distillation``
- ``backends``: ``InferenceBackend`` (torch, ONNX Runtime), ``make_backend``
- ``report``: ``build_report``, ``QualityBudget``, ``CompressionReport``
- ``pipeline``: ``compress_model`` (the whole chain), ``CompressOptions``
- ``targets``: ``get_target``, ``known_targets`` (super-resolution defined there,
  ``body_target``: the measurement MLPs, ``recsys_target``: the served SASRec);
  ``cli``: ``compress_command``

This package file imports nothing heavy, so ``fitroom --help`` stays fast.
"""
