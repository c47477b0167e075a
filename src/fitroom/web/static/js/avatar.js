// See it on me: the shopper's avatar (a glb from the API) with the fit heat map of the
// chosen size. The body comes from this visit's photo scan or from typed measurements;
// the per-zone ease of each size comes from POST /v1/size-recommendations.
import * as THREE from "three";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import {
  allProducts, bodyForRecommendation, el, fitCell, loadBody, postJSON, problemNotice, saveBody, signed,
} from "./api.js";
import { fetchAvatar, paintFit, parseAvatar } from "./avatar3d.js";

const form = document.getElementById("body-form");
const stage = document.getElementById("stage");
const errors = document.getElementById("errors");
const statusBox = document.getElementById("status");
const fitPanel = document.getElementById("fit-panel");
const sizesBox = document.getElementById("sizes");
const zonesBody = document.querySelector("#zones tbody");
const resetButton = document.getElementById("reset-view");
const params = new URLSearchParams(location.search);

let scanBody = null; // this visit's scan answer, used as long as the form is not edited
let viewer = null;
let current = null; // {mesh, levels, fits, colours}

// -- the form ------------------------------------------------------------------------

function value(body, name) {
  const m = body.measurements && body.measurements[name];
  if (m && typeof m === "object") return m.value_cm;
  return m ?? body[name];
}

/** A number as the input can hold it: on its step (0.5 cm), so the form stays valid. */
function onStep(input, v) {
  if (typeof v !== "number" || !Number.isFinite(v)) return "";
  const step = Number(input.step) || 1;
  return String(Math.round(v / step) * step);
}

function fillForm(body) {
  form.elements.sex.value = body.sex || "female";
  form.elements.height_cm.value = onStep(form.elements.height_cm, body.height_cm ?? body.stature_cm);
  for (const name of ["chest_cm", "waist_cm", "hip_cm"]) {
    form.elements[name].value = onStep(form.elements[name], value(body, name));
  }
}

function typedBody() {
  const body = { sex: form.elements.sex.value, height_cm: Number(form.elements.height_cm.value) };
  const measurements = {};
  for (const name of ["chest_cm", "waist_cm", "hip_cm"]) {
    if (form.elements[name].value) measurements[name] = Number(form.elements[name].value);
  }
  body.measurements = measurements;
  return body;
}

async function loadProducts() {
  const select = form.elements.product;
  const products = (await allProducts()).filter((p) => p.chart_id);
  const wanted = params.get("product");
  select.replaceChildren(
    ...products.map((p) => el("option", { value: p.product_id, text: `${p.title} (${p.colour || p.category})`, selected: p.product_id === wanted })),
  );
}

// -- the 3D view -----------------------------------------------------------------------

function makeViewer() {
  const renderer = new THREE.WebGLRenderer({ antialias: true });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
  renderer.setClearColor(0xe9edf1);
  const canvas = renderer.domElement;
  canvas.tabIndex = 0;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-describedby", "viewer-help");
  stage.prepend(canvas);
  const scene = new THREE.Scene();
  scene.add(new THREE.HemisphereLight(0xffffff, 0x8d8d8d, 2.2));
  const key = new THREE.DirectionalLight(0xffffff, 1.6);
  key.position.set(1.5, 3, 2.5);
  scene.add(key);
  const floor = new THREE.Mesh(new THREE.CircleGeometry(0.9, 48), new THREE.MeshStandardMaterial({ color: 0xcfd6de }));
  floor.rotation.x = -Math.PI / 2;
  scene.add(floor);
  const camera = new THREE.PerspectiveCamera(35, 1, 0.05, 50);
  const controls = new OrbitControls(camera, canvas);
  controls.minDistance = 0.6;
  controls.maxDistance = 8;
  const render = () => renderer.render(scene, camera);
  controls.addEventListener("change", render);
  const resize = () => {
    const { clientWidth: w, clientHeight: h } = stage;
    renderer.setSize(w, h, false);
    camera.aspect = w / Math.max(h, 1);
    camera.updateProjectionMatrix();
    render();
  };
  new ResizeObserver(resize).observe(stage);
  // Keyboard: arrows turn the body, + / - zoom (OrbitControls' own keys would pan).
  canvas.addEventListener("keydown", (event) => {
    const offset = camera.position.clone().sub(controls.target);
    const spherical = new THREE.Spherical().setFromVector3(offset);
    const step = Math.PI / 18;
    if (event.key === "ArrowLeft") spherical.theta -= step;
    else if (event.key === "ArrowRight") spherical.theta += step;
    else if (event.key === "ArrowUp") spherical.phi = Math.max(0.2, spherical.phi - step);
    else if (event.key === "ArrowDown") spherical.phi = Math.min(Math.PI - 0.2, spherical.phi + step);
    else if (event.key === "+" || event.key === "=") spherical.radius = Math.max(controls.minDistance, spherical.radius * 0.9);
    else if (event.key === "-") spherical.radius = Math.min(controls.maxDistance, spherical.radius / 0.9);
    else return;
    event.preventDefault();
    camera.position.copy(controls.target).add(offset.setFromSpherical(spherical));
    controls.update();
  });
  resetButton.addEventListener("click", () => controls.reset());
  resize();
  return { renderer, scene, camera, controls, render, canvas };
}

async function showAvatar(arrayBuffer) {
  const { mesh, levels, heightM } = await parseAvatar(arrayBuffer);
  if (!viewer) viewer = makeViewer();
  if (current) viewer.scene.remove(current.mesh);
  viewer.scene.add(mesh);
  const { camera, controls } = viewer;
  controls.target.set(0, heightM * 0.52, 0);
  camera.position.set(0, heightM * 0.6, heightM * 2.4);
  controls.update();
  controls.saveState();
  document.getElementById("stage-empty")?.remove();
  resetButton.hidden = false;
  return { mesh, levels };
}

function recolour(size) {
  const fit = current.fits.find((f) => f.size === size);
  paintFit(current.mesh, current.levels, fit);
  zonesBody.replaceChildren(
    ...fit.zones.map((z) =>
      el("tr", {}, el("th", { scope: "row", text: z.zone }), el("td", { text: signed(z.ease_cm) }), el("td", {}, fitCell(z.fit))),
    ),
  );
  viewer.canvas.setAttribute("aria-label", `3D view of your body; size ${size} coloured by fit: ` + fit.zones.map((z) => `${z.zone} ${z.fit}`).join(", "));
  viewer.render();
  stage.dataset.size = size;
}

function sizeSwitcher(fits, chosen) {
  // Smaller sizes give less room: order the sizes by their total ease.
  const ordered = [...fits].sort((a, b) => sum(a) - sum(b));
  sizesBox.replaceChildren(el("legend", { class: "visually-hidden", text: "Size" }));
  for (const fit of ordered) {
    const input = el("input", { type: "radio", name: "size", value: fit.size, checked: fit.size === chosen });
    input.addEventListener("change", () => recolour(fit.size));
    sizesBox.append(el("label", { "data-size": fit.size }, input, el("span", { text: fit.size })));
  }
}

function sum(fit) {
  return fit.zones.reduce((total, z) => total + z.ease_cm, 0);
}

// -- the flow ----------------------------------------------------------------------------

async function show(event) {
  event?.preventDefault();
  errors.replaceChildren();
  // The form only shows a scan's numbers (rounded to its steps); it is checked when its
  // typed numbers are the body.
  if (!scanBody && !form.reportValidity()) return;
  const body = scanBody || typedBody();
  const productId = form.elements.product.value;
  const button = document.getElementById("show");
  button.disabled = true;
  stage.dataset.state = "loading";
  statusBox.textContent = "Fitting your avatar and the sizes… (a few seconds)";
  try {
    const rec = await postJSON("/v1/size-recommendations", { product_id: productId, ...bodyForRecommendation(body) });
    const shown = await showAvatar(await fetchAvatar(body));
    current = { ...shown, fits: rec.fits };
    if (!scanBody) saveBody(body);
    const wanted = params.get("size");
    const size = rec.fits.some((f) => f.size === wanted) ? wanted : rec.size;
    sizeSwitcher(rec.fits, size);
    document.getElementById("fit-reason").textContent = rec.reason;
    fitPanel.hidden = false;
    recolour(size);
    stage.dataset.state = "ready";
    if (event) stage.scrollIntoView({ block: "nearest", behavior: "smooth" });
    statusBox.textContent = `Showing size ${size}. Recommended: ${rec.size}.`;
  } catch (error) {
    stage.dataset.state = "error";
    statusBox.textContent = "";
    errors.replaceChildren(problemNotice(error));
  } finally {
    button.disabled = false;
  }
}

async function start() {
  try {
    await loadProducts();
  } catch (error) {
    errors.replaceChildren(problemNotice(error));
    return;
  }
  const saved = loadBody();
  const source = document.getElementById("body-source");
  if (saved) {
    fillForm(saved);
    if (saved.model) {
      scanBody = saved;
      source.textContent = "From your photo scan. Change a number to use your own instead.";
    } else {
      source.textContent = "The measurements you entered earlier.";
    }
  } else {
    source.innerHTML = 'Enter your height (and chest, waist and hip if you know them), or <a href="/size">measure yourself from two photos</a>.';
  }
  form.addEventListener("input", () => {
    if (scanBody) {
      scanBody = null;
      source.textContent = "Using the numbers you typed.";
    }
  });
  form.addEventListener("submit", show);
  if (saved) show();
}

start();
