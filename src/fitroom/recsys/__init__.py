"""Recommendations: behaviour, content and fit.

One small abstract class (:class:`~fitroom.recsys.base.Recommender`) with interchangeable
models behind a factory (:func:`~fitroom.recsys.models.create_model`): popularity,
item-item co-occurrence, ALS and BPR (``implicit``), a SASRec-style sequential
transformer, product-content similarity (all-MiniLM-L6-v2 text + image colour features)
and a hybrid that blends them. Items and shoppers are strings at the edge and dense
indexes inside. No HTTP, no database: plain arrays in and out.
"""
