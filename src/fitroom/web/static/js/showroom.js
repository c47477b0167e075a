// The showroom: a room with every product on a stand. Walk with WASD / arrows, drag to
// look, click (or tap) a garment to open its card; "Products in this room" gives the same
// to keyboard and screen-reader users. "Enter VR" appears only where the browser offers
// immersive-vr (WebXR); in VR the controllers point at a garment to show its card in 3D.
// With a body from this visit (a photo scan or typed numbers), the shopper's own avatar
// stands by the entrance and wears the fit heat map of their size of the garment opened.
import * as THREE from "three";
import { allProducts, bodyForRecommendation, el, formatPrice, loadBody, postJSON, problemNotice } from "./api.js";
import { fetchAvatar, paintFit, parseAvatar } from "./avatar3d.js";

const stage = document.getElementById("stage");
const statusBox = document.getElementById("showroom-status");
const dialog = document.getElementById("card");
const cardBody = document.getElementById("card-body");
const listBox = document.querySelector("#product-list ul");
const vrButton = document.getElementById("vr-button");

const EYE_HEIGHT_M = 1.6;
const WALK_M_PER_S = 2.2;
const TURN_RAD_PER_S = 1.7;
const SPACING_X_M = 2.4;
const ROW_GAP_M = 4.5;
const PER_ROW = 8;

// -- renderer, camera rig ---------------------------------------------------------------
const renderer = new THREE.WebGLRenderer({ antialias: window.devicePixelRatio < 2 });
renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
renderer.xr.enabled = true;
const canvas = renderer.domElement;
canvas.tabIndex = 0;
canvas.setAttribute("role", "application");
canvas.setAttribute("aria-label", "3D showroom. Use W A S D or the arrow keys to walk and turn.");
canvas.setAttribute("aria-describedby", "showroom-help");
stage.prepend(canvas);

const scene = new THREE.Scene();
scene.background = new THREE.Color(0xdfe4ea);
const camera = new THREE.PerspectiveCamera(70, 1, 0.05, 200);
camera.position.set(0, EYE_HEIGHT_M, 0);
const rig = new THREE.Group(); // walking moves and turns the rig; looking up/down tilts the camera
rig.add(camera);
scene.add(rig);
scene.add(new THREE.HemisphereLight(0xffffff, 0x9aa3ad, 2.4));
const sun = new THREE.DirectionalLight(0xffffff, 1.2);
sun.position.set(4, 8, 6);
scene.add(sun);

let dirty = true;
const bounds = { minX: -5, maxX: 5, minZ: -5, maxZ: 5 };
const stands = new Map(); // product_id -> {product, board, group}
const boards = [];

function resize() {
  const w = stage.clientWidth, h = stage.clientHeight;
  renderer.setSize(w, h, false);
  camera.aspect = w / Math.max(h, 1);
  camera.updateProjectionMatrix();
  dirty = true;
}
new ResizeObserver(resize).observe(stage);

// -- the room ------------------------------------------------------------------------------
function labelTexture(lines, width = 512, height = 160) {
  const c = document.createElement("canvas");
  c.width = width;
  c.height = height;
  const g = c.getContext("2d");
  g.fillStyle = "#ffffff";
  g.fillRect(0, 0, width, height);
  g.fillStyle = "#1d232b";
  lines.forEach((line, i) => {
    g.font = i === 0 ? "bold 34px system-ui, sans-serif" : "28px system-ui, sans-serif";
    g.fillText(fitText(g, line, width - 32), 16, 48 + i * 44);
  });
  const texture = new THREE.CanvasTexture(c);
  texture.colorSpace = THREE.SRGBColorSpace;
  return texture;
}

function fitText(g, text, maxWidth) {
  let t = text;
  while (t.length > 4 && g.measureText(t).width > maxWidth) t = t.slice(0, -2);
  return t === text ? t : `${t.trimEnd()}…`;
}

function buildRoom(rows) {
  const width = PER_ROW * SPACING_X_M + 3;
  const frontZ = 6;
  const backZ = -(rows - 1) * ROW_GAP_M - 3;
  Object.assign(bounds, { minX: -width / 2 + 0.5, maxX: width / 2 - 0.5, minZ: backZ + 0.8, maxZ: frontZ - 0.5 });
  const depth = frontZ - backZ;
  const centreZ = (frontZ + backZ) / 2;
  const floor = new THREE.Mesh(new THREE.PlaneGeometry(width, depth), new THREE.MeshStandardMaterial({ color: 0xb9a58c, roughness: 0.9 }));
  floor.rotation.x = -Math.PI / 2;
  floor.position.z = centreZ;
  scene.add(floor);
  const wallMaterial = new THREE.MeshStandardMaterial({ color: 0xf3f1ec, side: THREE.DoubleSide });
  const wallHeight = 3.4;
  const walls = [
    [width, 0, backZ, 0],
    [width, 0, frontZ, Math.PI],
    [depth, -width / 2, centreZ, Math.PI / 2],
    [depth, width / 2, centreZ, -Math.PI / 2],
  ];
  for (const [length, x, z, turn] of walls) {
    const wall = new THREE.Mesh(new THREE.PlaneGeometry(length, wallHeight), wallMaterial);
    wall.position.set(x, wallHeight / 2, z);
    wall.rotation.y = turn;
    scene.add(wall);
  }
}

const loader = new THREE.TextureLoader();
const pedestalGeometry = new THREE.BoxGeometry(0.7, 0.85, 0.35);
const pedestalMaterial = new THREE.MeshStandardMaterial({ color: 0x3b4450, roughness: 0.6 });
const boardGeometry = new THREE.PlaneGeometry(1.15, 1.15);
const labelGeometry = new THREE.PlaneGeometry(0.68, 0.21);

function addStand(product, index) {
  const row = Math.floor(index / PER_ROW);
  const column = index % PER_ROW;
  const group = new THREE.Group();
  group.position.set((column - (PER_ROW - 1) / 2) * SPACING_X_M, 0, -row * ROW_GAP_M);
  const pedestal = new THREE.Mesh(pedestalGeometry, pedestalMaterial);
  pedestal.position.y = 0.425;
  group.add(pedestal);
  const material = new THREE.MeshBasicMaterial({ color: 0xffffff });
  const board = new THREE.Mesh(boardGeometry, material);
  // The super-resolved texture (fitroom textures build) where one exists, else the photo.
  const source = product.texture || (product.images && product.images[0]);
  if (source) {
    loader.load(source, (texture) => {
      texture.colorSpace = THREE.SRGBColorSpace;
      board.scale.x = texture.image.width / texture.image.height; // keep the photo's shape
      material.map = texture;
      material.needsUpdate = true;
      dirty = true;
    });
  } else {
    material.map = labelTexture([product.title, "No photo yet"]);
  }
  board.position.y = 1.55;
  board.userData.productId = product.product_id;
  group.add(board);
  const label = new THREE.Mesh(labelGeometry, new THREE.MeshBasicMaterial({ map: labelTexture([product.title, formatPrice(product.price, product.currency)]) }));
  label.position.set(0, 0.62, 0.176);
  label.userData.productId = product.product_id;
  group.add(label);
  scene.add(group);
  boards.push(board, label);
  stands.set(product.product_id, { product, board, group });
}

// -- walking and looking ----------------------------------------------------------------
const held = new Set();
const KEYS = {
  KeyW: "forward", ArrowUp: "forward", KeyS: "back", ArrowDown: "back",
  KeyA: "strafeLeft", KeyD: "strafeRight", ArrowLeft: "left", ArrowRight: "right",
};
let pitch = 0;

function typing(target) {
  return target instanceof HTMLElement && target.closest("input, select, textarea, dialog, [contenteditable]");
}

document.addEventListener("keydown", (event) => {
  const action = KEYS[event.code];
  if (!action || dialog.open || typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
  held.add(action);
  event.preventDefault();
});
document.addEventListener("keyup", (event) => {
  const action = KEYS[event.code];
  if (action) held.delete(action);
});
window.addEventListener("blur", () => held.clear());

function step(dt) {
  if (!held.size) return false;
  const forward = (held.has("forward") ? 1 : 0) - (held.has("back") ? 1 : 0);
  const side = (held.has("strafeRight") ? 1 : 0) - (held.has("strafeLeft") ? 1 : 0);
  const turn = (held.has("left") ? 1 : 0) - (held.has("right") ? 1 : 0);
  rig.rotation.y += turn * TURN_RAD_PER_S * dt;
  const yaw = rig.rotation.y;
  const dx = -Math.sin(yaw) * forward + Math.cos(yaw) * side;
  const dz = -Math.cos(yaw) * forward - Math.sin(yaw) * side;
  rig.position.x = THREE.MathUtils.clamp(rig.position.x + dx * WALK_M_PER_S * dt, bounds.minX, bounds.maxX);
  rig.position.z = THREE.MathUtils.clamp(rig.position.z + dz * WALK_M_PER_S * dt, bounds.minZ, bounds.maxZ);
  return true;
}

// The on-screen pad (touch, mouse, keyboard): hold to walk; a click is a short step.
for (const button of document.querySelectorAll(".pad button")) {
  const action = { forward: "forward", back: "back", left: "left", right: "right" }[button.dataset.move];
  button.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    held.add(action);
  });
  for (const type of ["pointerup", "pointerleave", "pointercancel"]) button.addEventListener(type, () => held.delete(action));
  button.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      held.add(action);
      setTimeout(() => held.delete(action), 250);
    }
  });
}

// Drag to look; a press that hardly moves is a click on whatever is under it.
let drag = null;
canvas.addEventListener("pointerdown", (event) => {
  drag = { x: event.clientX, y: event.clientY, moved: 0, id: event.pointerId };
  canvas.setPointerCapture(event.pointerId);
});
canvas.addEventListener("pointermove", (event) => {
  if (!drag || event.pointerId !== drag.id) return;
  const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
  drag.moved += Math.abs(dx) + Math.abs(dy);
  drag.x = event.clientX;
  drag.y = event.clientY;
  rig.rotation.y += dx * 0.005;
  pitch = THREE.MathUtils.clamp(pitch + dy * 0.004, -1.1, 1.1);
  camera.rotation.x = pitch;
  dirty = true;
});
canvas.addEventListener("pointerup", (event) => {
  if (drag && drag.moved < 6) pick(event.clientX, event.clientY);
  drag = null;
});

const raycaster = new THREE.Raycaster();
function pick(clientX, clientY) {
  const rect = canvas.getBoundingClientRect();
  const ndc = new THREE.Vector2(((clientX - rect.left) / rect.width) * 2 - 1, -((clientY - rect.top) / rect.height) * 2 + 1);
  raycaster.setFromCamera(ndc, camera);
  const hit = raycaster.intersectObjects(boards, false)[0];
  if (hit) openCard(hit.object.userData.productId);
}

// -- the product card -------------------------------------------------------------------
function openCard(productId) {
  const { product } = stands.get(productId);
  const query = `?product=${encodeURIComponent(productId)}`;
  const inStock = product.sizes.filter((s) => s.stock > 0).map((s) => s.label);
  cardBody.replaceChildren(
    product.images && product.images[0] ? el("img", { src: product.images[0], alt: "" }) : null,
    el("h2", { id: "card-title", text: product.title }),
    el("p", { class: "muted", text: [product.colour, product.category].filter(Boolean).join(" · ") }),
    el("p", { class: "price", text: formatPrice(product.price, product.currency) }),
    el("p", { text: inStock.length ? `In stock: ${inStock.join(", ")}` : "Out of stock" }),
    el(
      "div",
      { class: "actions" },
      el("a", { class: "button", href: `/products/${encodeURIComponent(productId)}` }, "View product"),
      product.chart_id ? el("a", { class: "button secondary", href: `/size${query}` }, "Find my size") : null,
      product.chart_id ? el("a", { class: "button secondary", href: `/see-it-on-me${query}` }, "See it on me") : null,
    ),
  );
  dialog.dataset.productId = productId;
  if (!dialog.open) dialog.showModal();
  if (body && product.chart_id) showYourSize(product);
}

// -- your avatar and your size ----------------------------------------------------------
const body = loadBody();
let avatar = null; // {mesh, levels, label}

async function placeAvatar() {
  try {
    const { mesh, levels } = await parseAvatar(await fetchAvatar(body));
    const at = new THREE.Vector3(1.4, 0, 2.0); // in view from the entrance, turned to the visitor
    mesh.position.copy(at);
    mesh.rotation.y = Math.atan2(0 - at.x, 4.2 - at.z);
    const label = new THREE.Mesh(labelGeometry, new THREE.MeshBasicMaterial({ map: labelTexture(["You", "Open a garment"]) }));
    label.position.set(at.x, 2.0, at.z);
    label.rotation.y = mesh.rotation.y;
    scene.add(mesh, label);
    avatar = { mesh, levels, label };
    stage.dataset.avatar = "ready";
    dirty = true;
  } catch (error) {
    stage.dataset.avatar = "error";
  }
}

async function showYourSize(product) {
  const slot = el("p", { id: "card-your-size", class: "muted", text: "Finding your size…" });
  cardBody.querySelector(".actions").before(slot);
  try {
    const rec = await postJSON("/v1/size-recommendations", { product_id: product.product_id, ...bodyForRecommendation(body) });
    if (dialog.dataset.productId !== product.product_id) return;
    slot.className = "";
    slot.replaceChildren(el("strong", { text: `Your size: ${rec.size}. ` }), rec.reason);
    if (avatar) {
      paintFit(avatar.mesh, avatar.levels, rec.fits[0]);
      avatar.label.material.map.dispose();
      avatar.label.material.map = labelTexture(["You", `${rec.size}: ${product.title}`]);
      stage.dataset.avatarSize = rec.size;
      dirty = true;
    }
  } catch {
    slot.remove();
  }
}
document.getElementById("card-close").addEventListener("click", () => dialog.close());
dialog.addEventListener("click", (event) => {
  if (event.target === dialog) dialog.close(); // a click on the backdrop
});
dialog.addEventListener("close", () => canvas.focus());

function goTo(productId) {
  const { group } = stands.get(productId);
  rig.position.set(group.position.x, 0, group.position.z + 2.6);
  rig.rotation.y = 0;
  pitch = 0;
  camera.rotation.x = 0;
  dirty = true;
  openCard(productId);
}

// -- VR -----------------------------------------------------------------------------------
let vrCard = null;
function showCardInVr(productId) {
  const { product, group } = stands.get(productId);
  if (vrCard) vrCard.removeFromParent();
  const inStock = product.sizes.filter((s) => s.stock > 0).map((s) => s.label).join(" ");
  vrCard = new THREE.Mesh(
    new THREE.PlaneGeometry(1.2, 0.375),
    new THREE.MeshBasicMaterial({ map: labelTexture([product.title, formatPrice(product.price, product.currency), `In stock: ${inStock || "none"}`], 512, 160) }),
  );
  vrCard.position.set(0, 2.45, 0.05);
  group.add(vrCard);
}

function setUpControllers() {
  const ray = new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(0, 0, 0), new THREE.Vector3(0, 0, -5)]);
  for (const index of [0, 1]) {
    const controller = renderer.xr.getController(index);
    controller.add(new THREE.Line(ray, new THREE.LineBasicMaterial({ color: 0xffb000 })));
    controller.addEventListener("select", () => {
      const origin = new THREE.Vector3().setFromMatrixPosition(controller.matrixWorld);
      const direction = new THREE.Vector3(0, 0, -1).transformDirection(controller.matrixWorld);
      raycaster.set(origin, direction);
      const hit = raycaster.intersectObjects(boards, false)[0];
      if (hit) showCardInVr(hit.object.userData.productId);
    });
    rig.add(controller);
  }
}

async function offerVr() {
  if (!navigator.xr || !navigator.xr.isSessionSupported) return;
  let supported = false;
  try {
    supported = await navigator.xr.isSessionSupported("immersive-vr");
  } catch {
    supported = false;
  }
  if (!supported) return;
  setUpControllers();
  vrButton.hidden = false;
  let session = null;
  vrButton.addEventListener("click", async () => {
    if (session) {
      await session.end();
      return;
    }
    try {
      session = await navigator.xr.requestSession("immersive-vr", { optionalFeatures: ["local-floor", "bounded-floor"] });
    } catch (error) {
      statusBox.textContent = `VR could not start: ${error.message}`;
      return;
    }
    camera.position.y = 0; // the headset gives the eye height over the floor
    session.addEventListener("end", () => {
      session = null;
      camera.position.y = EYE_HEIGHT_M;
      vrButton.textContent = "Enter VR";
      dirty = true;
    });
    await renderer.xr.setSession(session);
    vrButton.textContent = "Exit VR";
  });
}

// -- the loop and start --------------------------------------------------------------------
const clock = new THREE.Clock();
renderer.setAnimationLoop(() => {
  const dt = Math.min(clock.getDelta(), 0.1);
  const moved = step(dt);
  if (moved || dirty || renderer.xr.isPresenting) {
    renderer.render(scene, camera);
    dirty = false;
  }
});

/** For tests and debugging: where a stand's board is on the screen (CSS pixels). */
function screenPositionOf(productId) {
  const { board } = stands.get(productId);
  camera.updateMatrixWorld();
  const world = new THREE.Vector3().setFromMatrixPosition(board.matrixWorld);
  const distance = world.distanceTo(new THREE.Vector3().setFromMatrixPosition(camera.matrixWorld));
  const p = world.project(camera);
  const rect = canvas.getBoundingClientRect();
  return {
    x: rect.left + ((p.x + 1) / 2) * rect.width,
    y: rect.top + ((1 - p.y) / 2) * rect.height,
    inView: p.z < 1 && Math.abs(p.x) < 1 && Math.abs(p.y) < 1,
    distance,
  };
}
window.showroom = {
  camera, rig, stands, screenPositionOf, openCard,
  avatar: () => avatar,
  requestRender: () => { dirty = true; },
};

async function start() {
  let products;
  try {
    products = await allProducts();
  } catch (error) {
    statusBox.replaceChildren(problemNotice(error));
    return;
  }
  const rows = Math.max(1, Math.ceil(products.length / PER_ROW));
  buildRoom(rows);
  products.forEach(addStand);
  rig.position.set(0, 0, 4.2);
  for (const product of products) {
    listBox.append(el("li", {}, el("button", { type: "button", onclick: () => goTo(product.product_id) }, product.title)));
  }
  statusBox.textContent = `${products.length} products on ${rows} ${rows === 1 ? "row" : "rows"}.`;
  resize();
  stage.dataset.state = "ready";
  offerVr();
  if (body) placeAvatar();
}

start();
