// One product: photo, details, stock per size, and the ways on: find my size, see it on me.
// (No "Try it on" button until the try-on service exists: a button must never dead-end.)
import { bodyForRecommendation, el, formatPrice, getJSON, loadBody, postJSON, problemNotice, productImage } from "./api.js";

const root = document.getElementById("product");
const productId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");

async function yourSize(product) {
  // A body from this visit (scan or typed) gives the size right on the product page.
  const body = loadBody();
  if (!body || !product.chart_id) return null;
  try {
    const rec = await postJSON("/v1/size-recommendations", { product_id: product.product_id, ...bodyForRecommendation(body) });
    return el("p", { class: "notice info", id: "your-size" }, el("strong", { text: `Your size: ${rec.size}. ` }), rec.reason);
  } catch {
    return null;
  }
}

async function start() {
  let product, brand;
  try {
    product = await getJSON(`/v1/products/${encodeURIComponent(productId)}`);
    brand = await getJSON(`/v1/brands/${encodeURIComponent(product.brand_id)}`).catch(() => null);
  } catch (error) {
    root.replaceChildren(problemNotice(error));
    return;
  }
  document.title = `${product.title} · fitroom`;
  const query = `?product=${encodeURIComponent(product.product_id)}`;
  const sized = Boolean(product.chart_id);
  root.replaceChildren(
    el(
      "article",
      { class: "product" },
      el("div", { class: "photo" }, productImage(product)),
      el(
        "div",
        {},
        el("h1", { text: product.title }),
        el("p", { class: "muted", text: [brand ? brand.name : product.brand_id, product.colour].filter(Boolean).join(" · ") }),
        el("p", { class: "price", text: formatPrice(product.price, product.currency) }),
        product.description ? el("p", { text: product.description }) : null,
        product.material ? el("p", {}, el("strong", { text: "Material: " }), product.material) : null,
        product.fit ? el("p", {}, el("strong", { text: "Cut: " }), product.fit) : null,
        el("h2", { text: "Sizes" }),
        el(
          "ul",
          { class: "sizes", "aria-label": "Sizes and stock" },
          product.sizes.map((s) =>
            el("li", { class: s.stock > 0 ? "" : "out" }, s.label, el("span", { class: "visually-hidden", text: s.stock > 0 ? " in stock" : " out of stock" })),
          ),
        ),
        el("div", { id: "your-size-slot" }),
        sized
          ? el(
              "div",
              { class: "actions" },
              el("a", { class: "button", href: `/size${query}` }, "Find my size"),
              el("a", { class: "button secondary", href: `/see-it-on-me${query}` }, "See it on me"),
              el("a", { class: "button secondary", href: "/showroom" }, "Showroom"),
              ["tops", "outerwear", "trousers", "dresses"].includes(product.category)
                ? el("a", { class: "button secondary", href: `/try-on/live?product=${encodeURIComponent(product.product_id)}` }, "Try it on live")
                : null,
            )
          : el("p", { class: "muted", text: "This product has no size chart, so it cannot be sized from your body." }),
      ),
    ),
  );
  const hint = await yourSize(product);
  if (hint) document.getElementById("your-size-slot").append(hint);
}

start();
