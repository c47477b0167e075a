// Find my size: front (and side) photo + height -> POST /v1/body-scans -> measurements
// with +/- -> POST /v1/size-recommendations -> the size, per-zone fit and the reason.
// A refused photo shows the gate's reason and its advice in plain words.
import {
  allProducts, bodyForRecommendation, el, fitCell, postJSON, problemNotice, request, saveBody, signed,
} from "./api.js";

const form = document.getElementById("scan-form");
const statusBox = document.getElementById("status");
const errors = document.getElementById("errors");
const result = document.getElementById("result");
const submit = document.getElementById("submit");
const photos = { front: null, side: null }; // File or Blob per view

const LABELS = {
  chest_cm: "Chest / bust",
  waist_cm: "Waist",
  hip_cm: "Hip",
  neck_cm: "Neck",
  shoulder_breadth_cm: "Shoulder width",
  arm_length_cm: "Arm length",
  inseam_cm: "Inside leg",
  thigh_cm: "Thigh",
};

async function loadProducts() {
  const select = form.elements.product;
  const wanted = new URLSearchParams(location.search).get("product");
  try {
    const products = (await allProducts()).filter((p) => p.chart_id);
    select.replaceChildren(
      ...products.map((p) => el("option", { value: p.product_id, text: `${p.title} (${p.colour || p.category})`, selected: p.product_id === wanted })),
    );
  } catch (error) {
    errors.replaceChildren(problemNotice(error));
  }
}

function showPreview(view, blob, caption) {
  const box = form.querySelector(`.photo-pick[data-view="${view}"] .preview`);
  const url = URL.createObjectURL(blob);
  box.replaceChildren(el("figure", {}, el("img", { src: url, alt: `Your ${view} photo` }), el("figcaption", { class: "muted", text: caption })));
}

for (const view of ["front", "side"]) {
  form.elements[view].addEventListener("change", (event) => {
    const file = event.target.files[0] || null;
    photos[view] = file;
    if (file) showPreview(view, file, `Chosen: ${file.name}`);
  });
}

// The camera: a live preview and a shutter with a 5-second timer (to get into the pose).
if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
  for (const button of form.querySelectorAll(".camera-btn")) {
    button.hidden = false;
    button.addEventListener("click", () => openCamera(button.dataset.view));
  }
}

async function openCamera(view) {
  const box = form.querySelector(`.photo-pick[data-view="${view}"] .preview`);
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment", height: { ideal: 1920 } }, audio: false });
  } catch (error) {
    box.replaceChildren(el("p", { class: "notice error", role: "alert", text: "The camera could not be opened (permission refused or no camera). Upload a photo instead." }));
    return;
  }
  const video = el("video", { autoplay: true, playsinline: true, muted: true, "aria-label": `Camera preview for the ${view} photo` });
  video.srcObject = stream;
  const stop = () => stream.getTracks().forEach((t) => t.stop());
  const countdown = el("p", { role: "status", "aria-live": "assertive" });
  const shoot = el("button", { type: "button", text: "Take the photo in 5 s" });
  const cancel = el("button", { type: "button", class: "secondary", text: "Cancel" });
  shoot.addEventListener("click", async () => {
    shoot.disabled = true;
    for (let s = 5; s > 0; s -= 1) {
      countdown.textContent = `${s}…`;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    stop();
    canvas.toBlob((blob) => {
      photos[view] = blob;
      form.elements[view].value = ""; // the camera photo replaces a chosen file
      showPreview(view, blob, "Taken with the camera");
    }, "image/jpeg", 0.92);
  });
  cancel.addEventListener("click", () => {
    stop();
    box.replaceChildren();
  });
  box.replaceChildren(video, countdown, el("div", { class: "actions" }, shoot, cancel));
}

function measurementsTable(answer) {
  const rows = Object.entries(answer.measurements).map(([name, m]) =>
    el("tr", {}, el("th", { scope: "row", text: LABELS[name] || name }), el("td", { text: `${m.value_cm.toFixed(1)} cm` }), el("td", { text: `± ${m.plus_minus_cm.toFixed(1)} cm` })),
  );
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { id: "measurements" },
      el("caption", { class: "visually-hidden", text: "Your measurements" }),
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Measurement" }), el("th", { scope: "col", text: "Value" }), el("th", { scope: "col", text: "Uncertainty" }))),
      el("tbody", {}, rows),
    ),
  );
}

function zonesTable(fit) {
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { id: "zone-fit" },
      el("caption", { class: "visually-hidden", text: `How size ${fit.size} fits, zone by zone` }),
      el("thead", {}, el("tr", {}, ["Zone", "You", "Size range", "Room", "Fit"].map((t) => el("th", { scope: "col", text: t })))),
      el(
        "tbody",
        {},
        fit.zones.map((z) =>
          el(
            "tr",
            {},
            el("th", { scope: "row", text: z.zone + (z.estimated ? " (estimated)" : "") }),
            el("td", { text: `${z.body_cm.toFixed(1)} cm` }),
            el("td", { text: `${z.size_range_cm[0]}–${z.size_range_cm[1]} cm` }),
            el("td", { text: signed(z.ease_cm) }),
            el("td", {}, fitCell(z.fit)),
          ),
        ),
      ),
    ),
  );
}

function renderResult(answer, rec, productId) {
  const chosen = rec.fits[0];
  const others = rec.fits.slice(1);
  result.replaceChildren(
    el(
      "div",
      { class: "panel" },
      el("h2", { id: "result-title", text: "Your size" }),
      el("p", { class: "result-size", id: "recommended-size", text: rec.size }),
      el("p", { class: "muted", text: `Confidence ${Math.round(rec.confidence * 100)}%` + (rec.in_stock === false ? " · this size is out of stock" : "") }),
      rec.alternatives.length ? el("p", { text: `Also consider: ${rec.alternatives.map((a) => a.size).join(", ")}` }) : null,
      el("p", { id: "reason", text: rec.reason }),
      el("h3", { text: `How ${chosen.size} fits` }),
      zonesTable(chosen),
      others.length ? el("p", { class: "muted", text: others.map((f) => `${f.size}: ${f.overall}`).join(" · ") }) : null,
      el(
        "div",
        { class: "actions" },
        el("a", { class: "button", href: `/see-it-on-me?product=${encodeURIComponent(productId)}&size=${encodeURIComponent(rec.size)}` }, "See it on me"),
        el("a", { class: "button secondary", href: `/products/${encodeURIComponent(productId)}` }, "Back to the product"),
      ),
    ),
    el(
      "div",
      { class: "panel" },
      el("h2", { text: "Your measurements" }),
      answer.warnings && answer.warnings.length ? el("ul", {}, answer.warnings.map((w) => el("li", { class: "muted", text: w }))) : null,
      measurementsTable(answer),
      el("p", { class: "muted", text: answer.stored ? "Your measurements are kept (you can ask for them to be deleted). The photos were not kept." : "Nothing was kept: neither the photos nor the measurements." }),
    ),
  );
  result.hidden = false;
  result.querySelector("h2").focus?.();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errors.replaceChildren();
  const height = form.elements.height_cm.value;
  const missing = [];
  if (!photos.front) missing.push("a front photo");
  if (!height) missing.push("your height");
  if (!form.elements.product.value) missing.push("a garment");
  if (missing.length) {
    errors.replaceChildren(el("div", { class: "notice error", role: "alert", "data-problem": "missing" }, el("h2", { text: `Please add ${missing.join(" and ")}.` })));
    return;
  }
  const data = new FormData();
  data.append("front", photos.front, photos.front.name || "front.jpg");
  if (photos.side) data.append("side", photos.side, photos.side.name || "side.jpg");
  data.append("height_cm", height);
  if (form.elements.weight_kg.value) data.append("weight_kg", form.elements.weight_kg.value);
  if (form.elements.sex.value) data.append("sex", form.elements.sex.value);
  data.append("consent_to_store", form.elements.consent_to_store.checked ? "true" : "false");
  submit.disabled = true;
  result.hidden = true;
  statusBox.textContent = "Measuring your photos… (this takes a few seconds)";
  try {
    const answer = await (await request("/v1/body-scans", { method: "POST", body: data })).json();
    saveBody(answer);
    statusBox.textContent = "Choosing your size…";
    const productId = form.elements.product.value;
    const rec = await postJSON("/v1/size-recommendations", {
      product_id: productId,
      fit: form.elements.fit.value,
      ...bodyForRecommendation(answer),
    });
    statusBox.textContent = `Done: your size is ${rec.size}.`;
    renderResult(answer, rec, productId);
  } catch (error) {
    statusBox.textContent = "";
    errors.replaceChildren(problemNotice(error));
    errors.querySelector("[role=alert]")?.scrollIntoView({ block: "nearest" });
  } finally {
    submit.disabled = false;
  }
});

loadProducts();
