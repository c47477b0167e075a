// Live try-on: webcam frames (640x480 JPEG) over the /v1/try-on/stream WebSocket, the
// dressed frames drawn as they come back. At most MAX_IN_FLIGHT frames are on their way
// at once, so the network and the server's two stages (pose, compose) stay busy without
// a queue building up. Protocol: see src/fitroom/api/routes/tryon_stream.py.
import { allProducts, ApiProblem, el, problemNotice } from "./api.js";

const MAX_IN_FLIGHT = 2;
const WIDTH = 640;
const HEIGHT = 480;
const JPEG_QUALITY = 0.8;
const TRYABLE = new Set(["tops", "outerwear", "trousers", "dresses"]);

const form = document.getElementById("garment-form");
const productSelect = document.getElementById("product");
const fileInput = document.getElementById("garment-file");
const startButton = document.getElementById("start");
const stopButton = document.getElementById("stop");
const stage = document.getElementById("stage");
const video = document.getElementById("camera");
const result = document.getElementById("result");
const fpsOut = document.getElementById("fps");
const serverMsOut = document.getElementById("server-ms");
const statusBox = document.getElementById("status");
const errors = document.getElementById("errors");

const grab = document.createElement("canvas");
grab.width = WIDTH;
grab.height = HEIGHT;
const grabContext = grab.getContext("2d");
const resultContext = result.getContext("2d");

let socket = null;
let camera = null;
let garmentMessage = null; // the last garment choice, re-sent when the socket reconnects
let garmentReady = false;
let inFlight = 0;
let freshFrame = false;
let framesShown = 0;
let shownAt = []; // arrival times (ms) of recent results, for the fps figure
let serverMs = [];

const setState = (state) => { stage.dataset.state = state; };
const say = (text) => { statusBox.textContent = text; };

function showProblem(problem) {
  // Server errors carry a fitroom error type; api.js words them like the other pages.
  const error = new ApiProblem({ ...problem, type: `urn:fitroom:problem:${problem.type}` }, 0);
  errors.replaceChildren(problemNotice(error));
}

function showNotice(title, detail, advice) {
  errors.replaceChildren(
    el("div", { class: "notice error", role: "alert", "data-problem": "camera" },
      el("h2", { text: title }),
      el("p", { class: "detail", text: detail }),
      advice ? el("p", { class: "advice" }, el("strong", { text: "What to do: " }), advice) : null),
  );
}

async function loadProducts() {
  const wanted = new URLSearchParams(location.search).get("product");
  try {
    const products = (await allProducts()).filter((p) => TRYABLE.has(p.category) && p.images && p.images.length);
    productSelect.append(
      ...products.map((p) => el("option", { value: p.product_id, text: `${p.title} (${p.colour || p.category})`, selected: p.product_id === wanted })),
    );
    if (wanted && productSelect.value === wanted) chooseGarment({ product_id: wanted });
  } catch (error) {
    errors.replaceChildren(problemNotice(error));
  }
}

function chooseGarment(message) {
  garmentMessage = message;
  garmentReady = false;
  errors.replaceChildren();
  say("Preparing the garment…");
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

productSelect.addEventListener("change", () => {
  if (productSelect.value) {
    fileInput.value = "";
    chooseGarment({ product_id: productSelect.value });
  }
});

fileInput.addEventListener("change", () => {
  const file = fileInput.files[0];
  if (!file) return;
  productSelect.value = "";
  const reader = new FileReader();
  const category = document.getElementById("category").value;
  reader.onload = () => chooseGarment({ garment: String(reader.result).split(",", 2)[1], category });
  reader.onerror = () => showNotice("That file could not be read", String(reader.error), "choose another photo");
  reader.readAsDataURL(file);
});

function recordResult() {
  const now = performance.now();
  framesShown += 1;
  stage.dataset.frames = String(framesShown);
  shownAt.push(now);
  shownAt = shownAt.filter((t) => now - t <= 2000);
  if (shownAt.length >= 2) {
    const fps = (shownAt.length - 1) / ((shownAt[shownAt.length - 1] - shownAt[0]) / 1000);
    fpsOut.value = fps.toFixed(1);
  }
}

function handleText(text) {
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    return;
  }
  if (message.type === "garment-ready") {
    garmentReady = true;
    errors.replaceChildren();
    say(camera ? "Garment ready: you are wearing it." : "Garment ready: start the camera.");
    pump();
  } else if (message.type === "frame") {
    serverMs.push(message.server_ms);
    if (serverMs.length > 30) serverMs.shift();
    const sorted = [...serverMs].sort((a, b) => a - b);
    serverMsOut.value = sorted[Math.floor(sorted.length / 2)].toFixed(0);
    say(message.person_found ? "" : `Nobody to dress: ${message.detail || "step into the picture"}. Stand facing the camera, shoulders in view.`);
  } else {
    if (typeof message.seq === "number") {
      inFlight = Math.max(0, inFlight - 1); // this frame gets no image
      pump();
    }
    showProblem(message);
    if (message.type.startsWith("garment") || message.type === "no-garment" || message.type === "unsupported-category") {
      garmentReady = false;
      say("");
    }
  }
}

async function handleImage(blob) {
  inFlight = Math.max(0, inFlight - 1);
  pump();
  try {
    const bitmap = await createImageBitmap(blob);
    // A frame decoded after Stop (it was on its way) is dropped: the view stays idle.
    if (!camera) {
      bitmap.close();
      return;
    }
    resultContext.drawImage(bitmap, 0, 0, result.width, result.height);
    bitmap.close();
    recordResult();
    if (stage.dataset.state !== "live") setState("live");
  } catch (error) {
    showNotice("A frame from the server could not be shown", String(error), null);
  }
}

function connect() {
  return new Promise((resolve, reject) => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/v1/try-on/stream`);
    ws.binaryType = "blob";
    ws.onopen = () => {
      if (garmentMessage) ws.send(JSON.stringify(garmentMessage));
      resolve(ws);
    };
    ws.onerror = () => reject(new Error("the try-on server could not be reached"));
    ws.onmessage = (event) => (typeof event.data === "string" ? handleText(event.data) : handleImage(event.data));
    ws.onclose = () => {
      if (socket === ws && camera) {
        stop();
        showNotice("The connection to the try-on server was lost", "The live view stopped.", "press “Start the camera” to try again");
      }
    };
  });
}

function pump() {
  if (!socket || socket.readyState !== WebSocket.OPEN || !camera || !garmentReady) return;
  while (inFlight < MAX_IN_FLIGHT && freshFrame && video.readyState >= 2) {
    freshFrame = false;
    inFlight += 1;
    grabContext.drawImage(video, 0, 0, WIDTH, HEIGHT);
    grab.toBlob((blob) => {
      if (blob && socket && socket.readyState === WebSocket.OPEN) socket.send(blob);
      else inFlight = Math.max(0, inFlight - 1);
    }, "image/jpeg", JPEG_QUALITY);
  }
}

function watchFrames() {
  // A new camera frame may be sent; without requestVideoFrameCallback, every paint.
  const next = () => {
    if (!camera) return;
    freshFrame = true;
    pump();
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(next);
    else requestAnimationFrame(next);
  };
  next();
}

async function start() {
  errors.replaceChildren();
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    showNotice("The camera is not available on this page", "Browsers allow the camera only on secure pages (https or localhost).", "open the fitting room over https");
    return;
  }
  if (!garmentMessage) say("Choose a garment from the catalog or upload a photo of one.");
  setState("starting");
  startButton.disabled = true;
  try {
    camera = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: WIDTH }, height: { ideal: HEIGHT } }, audio: false });
  } catch (error) {
    camera = null;
    setState("error");
    startButton.disabled = false;
    if (error.name === "NotAllowedError" || error.name === "SecurityError") {
      showNotice("Camera access was denied", "The live try-on needs your camera; nothing is recorded.", "allow the camera for this site in the browser's address bar, then press “Start the camera” again");
    } else if (error.name === "NotFoundError" || error.name === "OverconstrainedError") {
      showNotice("No camera found", "This device has no camera the browser can use.", "connect a webcam, or upload photos on the “Find my size” page");
    } else {
      showNotice("The camera could not be started", `${error.name}: ${error.message}`, "close other apps that use the camera and try again");
    }
    return;
  }
  video.srcObject = camera;
  await video.play();
  try {
    socket = await connect();
  } catch (error) {
    stop();
    setState("error");
    showNotice("The try-on server could not be reached", String(error.message || error), "check your connection and try again");
    return;
  }
  startButton.hidden = true;
  startButton.disabled = false;
  stopButton.hidden = false;
  inFlight = 0;
  watchFrames();
}

function stop() {
  if (camera) for (const track of camera.getTracks()) track.stop();
  camera = null;
  const ws = socket;
  socket = null;
  if (ws) ws.close();
  garmentReady = false;
  video.srcObject = null;
  startButton.hidden = false;
  startButton.disabled = false;
  stopButton.hidden = true;
  setState("idle");
}

startButton.addEventListener("click", start);
stopButton.addEventListener("click", stop);
form.addEventListener("submit", (event) => event.preventDefault());
loadProducts();
