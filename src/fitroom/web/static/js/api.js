// Talking to fitroom's public HTTP API (/v1), and small DOM helpers the pages share.
// Errors come back as RFC 9457 problem+json; ApiProblem keeps every field of it.

export class ApiProblem extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.problem = problem;
    this.status = status;
    this.slug = (problem.type || "").replace("urn:fitroom:problem:", "");
  }
}

export async function request(path, options = {}) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (err) {
    throw new ApiProblem(
      { title: "No connection", detail: "The fitting room server could not be reached. Check your connection and try again." },
      0,
    );
  }
  if (!response.ok) {
    let problem = { title: `HTTP ${response.status}`, detail: response.statusText };
    const type = response.headers.get("content-type") || "";
    if (type.includes("json")) problem = await response.json();
    throw new ApiProblem(problem, response.status);
  }
  return response;
}

export async function getJSON(path) {
  return (await request(path)).json();
}

export async function postJSON(path, body) {
  const response = await request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return response.json();
}

/** Every product, page by page (the API returns at most 200 at a time). */
export async function allProducts(params = {}) {
  const items = [];
  for (let offset = 0; ; offset += 200) {
    const query = new URLSearchParams({ ...params, limit: "200", offset: String(offset) });
    const page = await getJSON(`/v1/products?${query}`);
    items.push(...page.items);
    if (items.length >= page.total || page.items.length === 0) return items;
  }
}

/** Create an element: el("a", {href: "/"}, "text", child...). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function formatPrice(price, currency = "EUR") {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(price);
  } catch {
    return `${Number(price).toFixed(2)} ${currency}`;
  }
}

export function productImage(product, alt) {
  const src = product.images && product.images[0];
  if (!src) return el("span", { class: "no-image", text: "No photo yet" });
  return el("img", { src, alt: alt ?? product.title, loading: "lazy", width: "600", height: "800" });
}

/** Plain-words headline for a problem, by its stable type; the server's detail follows it. */
const HEADLINES = {
  "photo-too-small": "The photo is too small to measure",
  "no-person": "We could not find a person in the photo",
  "multiple-people": "There is more than one person in the photo",
  "body-cut-off": "Part of your body is outside the photo",
  "person-too-far": "You are too far from the camera",
  "person-too-close": "You are too close to the camera",
  "not-facing-camera": "Please face the camera in the front photo",
  "not-in-profile": "Please stand sideways in the side photo",
  "arms-against-body": "Your arms are too close to your body",
  "arms-raised": "Your arms are raised too high",
  "photo-too-dark": "The photo is too dark",
  "photo-too-blurry": "The photo is blurry",
  "invalid-image": "That file is not a photo we can read",
  "image-too-large": "The photo file is too large",
  "measurement-out-of-range": "A number looks wrong",
  "likely-wrong-unit": "A number looks like it is in the wrong unit",
  "validation-error": "Some details are missing or wrong",
  "model-error": "Measuring from photos is not available right now",
  "not-found": "Not found",
};

/** A notice block for an error: what went wrong, in plain words, and what to do. */
export function problemNotice(error) {
  const problem = error instanceof ApiProblem ? error.problem : { detail: String(error) };
  const slug = error instanceof ApiProblem ? error.slug : "";
  const headline = HEADLINES[slug] || problem.title || "Something went wrong";
  const view = problem.view ? `${problem.view === "side" ? "Side" : "Front"} photo: ` : "";
  return el(
    "div",
    { class: "notice error", role: "alert", "data-problem": slug || "error" },
    el("h2", { text: view + headline }),
    problem.detail && problem.detail !== headline ? el("p", { class: "detail", text: cap(problem.detail) + "." }) : null,
    problem.advice ? el("p", { class: "advice" }, el("strong", { text: "What to do: " }), cap(problem.advice) + ".") : null,
    slug === "model-error"
      ? el("p", {}, "You can still ", el("a", { href: "/see-it-on-me" }, "enter your measurements by hand"), ".")
      : null,
  );
}

function cap(text) {
  const trimmed = String(text).replace(/\.$/, "");
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
}

// The shopper's body for this visit: a scan's answer or typed measurements. Kept in
// sessionStorage only (gone when the tab closes); photos are never kept anywhere.
const BODY_KEY = "fitroom.body";

export function saveBody(document) {
  sessionStorage.setItem(BODY_KEY, JSON.stringify(document));
}

export function loadBody() {
  try {
    return JSON.parse(sessionStorage.getItem(BODY_KEY) || "null");
  } catch {
    return null;
  }
}

/** The recommendation request's measurements from a body document (scan or typed). */
export function bodyForRecommendation(body) {
  if (body.id) return { body_scan_id: body.id };
  const measurements = {};
  const source = body.measurements || {};
  for (const name of ["chest_cm", "waist_cm", "hip_cm", "inseam_cm", "neck_cm"]) {
    const item = source[name];
    const value = item && typeof item === "object" ? item.value_cm : item;
    if (typeof value === "number") measurements[name] = value;
  }
  if (body.height_cm) measurements.height_cm = body.height_cm;
  if (body.weight_kg) measurements.weight_kg = body.weight_kg;
  const out = { measurements };
  if (body.sex) out.sex = body.sex;
  return out;
}

export const FIT_WORDS = {
  tight: "tight",
  snug: "snug",
  regular: "just right",
  loose: "loose",
  oversized: "very loose",
};

export function fitCell(fit) {
  return el("span", { class: `fit-${fit}`, text: FIT_WORDS[fit] || fit });
}

export function signed(cm) {
  const rounded = Math.round(cm * 10) / 10;
  return `${rounded > 0 ? "+" : rounded < 0 ? "−" : "±"}${Math.abs(rounded)} cm`;
}
