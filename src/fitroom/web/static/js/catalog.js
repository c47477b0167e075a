// The catalog: category, gender and "size in stock" are filtered by the API; colour and
// price (which the API does not filter) in the page. The filters live in the URL, so a
// filtered view can be shared and the back button works.
import { allProducts, el, formatPrice, productImage, problemNotice } from "./api.js";

const form = document.getElementById("filters");
const list = document.getElementById("products");
const count = document.getElementById("count");
const SERVER_FILTERS = ["category", "gender", "size"];

let everything = []; // all products, for the colour and size options
let latest = 0; // only the newest render may write the list (answers can arrive out of order)

function readFilters() {
  const data = new FormData(form);
  return Object.fromEntries([...data.entries()].filter(([, value]) => value !== ""));
}

function writeFiltersToUrl(filters) {
  const query = new URLSearchParams(filters).toString();
  history.replaceState(null, "", query ? `/?${query}` : "/");
}

function fillOptions(select, values, selected) {
  select.replaceChildren(el("option", { value: "", text: "Any" }));
  for (const value of values) select.append(el("option", { value, text: value, selected: value === selected }));
}

function sizeOrder(a, b) {
  const letters = ["XXS", "XS", "S", "M", "L", "XL", "XXL", "3XL"];
  const ia = letters.indexOf(a), ib = letters.indexOf(b);
  if (ia >= 0 && ib >= 0) return ia - ib;
  if (ia >= 0) return -1;
  if (ib >= 0) return 1;
  return a.localeCompare(b, undefined, { numeric: true });
}

function card(product) {
  const inStock = product.sizes.filter((s) => s.stock > 0).map((s) => s.label);
  return el(
    "li",
    { class: "card", "data-product-id": product.product_id },
    el(
      "a",
      { href: `/products/${encodeURIComponent(product.product_id)}` },
      el("div", { class: "thumb" }, productImage(product, "")),
      el(
        "div",
        { class: "body" },
        el("span", { class: "title", text: product.title }),
        el("span", { class: "muted", text: [product.colour, product.category].filter(Boolean).join(" · ") }),
        el("span", { class: "price", text: formatPrice(product.price, product.currency) }),
        el("span", { class: "muted", text: inStock.length ? `In stock: ${inStock.join(", ")}` : "Out of stock" }),
      ),
    ),
  );
}

async function render() {
  const ticket = ++latest;
  const filters = readFilters();
  writeFiltersToUrl(filters);
  const serverParams = Object.fromEntries(SERVER_FILTERS.filter((k) => filters[k]).map((k) => [k, filters[k]]));
  count.textContent = "Loading products…";
  let items;
  try {
    items = await allProducts(serverParams);
  } catch (error) {
    if (ticket !== latest) return;
    count.textContent = "";
    list.replaceChildren(problemNotice(error));
    return;
  }
  if (ticket !== latest) return;
  const min = filters.price_min ? Number(filters.price_min) : -Infinity;
  const max = filters.price_max ? Number(filters.price_max) : Infinity;
  const shown = items.filter(
    (p) => (!filters.colour || p.colour === filters.colour) && p.price >= min && p.price <= max,
  );
  list.replaceChildren(...shown.map(card));
  count.textContent = shown.length === 1 ? "1 product" : `${shown.length} products`;
  if (!shown.length) list.append(el("li", { class: "muted", text: "Nothing matches these filters. Clear a filter to see more." }));
}

async function start() {
  const params = new URLSearchParams(location.search);
  try {
    everything = await allProducts();
  } catch (error) {
    count.textContent = "";
    list.replaceChildren(problemNotice(error));
    return;
  }
  const colours = [...new Set(everything.map((p) => p.colour).filter(Boolean))].sort();
  const sizes = [...new Set(everything.flatMap((p) => p.sizes.map((s) => s.label)))].sort(sizeOrder);
  fillOptions(form.elements.colour, colours, params.get("colour"));
  fillOptions(form.elements.size, sizes, params.get("size"));
  for (const name of ["category", "gender", "price_min", "price_max"]) {
    if (params.has(name)) form.elements[name].value = params.get(name);
  }
  form.addEventListener("change", render);
  form.addEventListener("input", (event) => {
    if (event.target.type === "number") render();
  });
  form.addEventListener("reset", () => setTimeout(render));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    render();
  });
  await render();
}

start();
