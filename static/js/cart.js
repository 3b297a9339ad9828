/* The cart of the counter sale and of a new scheduled order.
 *
 * Tapping a product tile adds one; each cart line posts as a pair of fields
 * product=ID & quantity=N, which the server validates (orders.forms.CartForm and
 * orders.services.order_create). Money is added up in whole cents, never in floating point.
 */
(function () {
  "use strict";

  const form = document.querySelector("form[data-cart]");
  if (!form) return;

  const list = form.querySelector("[data-cart-lines]");
  const totalElement = form.querySelector("[data-cart-total]");
  const emptyHint = form.querySelector("[data-cart-empty]");
  const submit = form.querySelector("[data-cart-submit]");
  const clear = form.querySelector("[data-cart-clear]");
  const numberFormat = JSON.parse(document.getElementById("money-format").textContent);
  const lines = new Map(); // product id → {id, name, cents, quantity, active}

  const MAX_QUANTITY = 99;

  function toCents(price) {
    const parts = String(price).split(".");
    return parseInt(parts[0], 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
  }

  function money(cents) {
    const whole = Math.floor(cents / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, numberFormat.thousands);
    return numberFormat.prefix + whole + numberFormat.decimal + String(cents % 100).padStart(2, "0");
  }

  function tileOf(id) {
    return form.querySelector('[data-add-product="' + id + '"]');
  }

  function add(id, name, price, quantity, active) {
    const line = lines.get(id);
    if (line) {
      line.quantity = Math.min(MAX_QUANTITY, line.quantity + quantity);
    } else {
      lines.set(id, { id: id, name: name, cents: toCents(price), quantity: quantity, active: active !== false });
    }
    render();
  }

  function setQuantity(id, quantity) {
    const line = lines.get(id);
    if (!line) return;
    if (quantity <= 0) lines.delete(id);
    else line.quantity = quantity;
    render();
  }

  function lineElement(line) {
    const item = document.createElement("li");
    item.className = "cart-line" + (line.active ? "" : " inactive");
    item.dataset.line = line.id;

    const product = document.createElement("input");
    product.type = "hidden";
    product.name = "product";
    product.value = line.id;

    const name = document.createElement("span");
    name.className = "line-name";
    name.textContent = line.name;

    const total = document.createElement("span");
    total.className = "line-total money";
    total.dataset.lineTotal = "";
    total.textContent = money(line.cents * line.quantity);

    const stepper = document.createElement("span");
    stepper.className = "stepper";
    const less = button("−", "data-less", form.dataset.lessLabel);
    const quantity = document.createElement("input");
    quantity.type = "number";
    quantity.name = "quantity";
    quantity.inputMode = "numeric";
    quantity.min = "1";
    quantity.max = String(MAX_QUANTITY);
    quantity.value = line.quantity;
    quantity.setAttribute("aria-label", line.name);
    const more = button("+", "data-more", form.dataset.moreLabel);
    stepper.append(less, quantity, more);

    const remove = button("×", "data-remove", form.dataset.removeLabel);
    remove.className = "line-remove";

    item.append(product, name, total, stepper, remove);
    return item;
  }

  function button(text, attribute, label) {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = text;
    element.setAttribute(attribute, "");
    if (label) element.setAttribute("aria-label", label);
    return element;
  }

  function totals() {
    let cents = 0;
    lines.forEach(function (line) { cents += line.cents * (line.quantity > 0 ? line.quantity : 0); });
    totalElement.textContent = money(cents);
    emptyHint.hidden = lines.size > 0;
    if (submit) submit.disabled = lines.size === 0;
    form.querySelectorAll("[data-add-product]").forEach(function (tile) {
      const line = lines.get(tile.dataset.addProduct);
      const count = tile.querySelector("[data-tile-count]");
      tile.classList.toggle("in-cart", Boolean(line));
      count.hidden = !line;
      count.textContent = line ? line.quantity : "";
    });
  }

  function render() {
    list.replaceChildren.apply(list, Array.from(lines.values()).map(lineElement));
    totals();
  }

  form.addEventListener("click", function (event) {
    const tile = event.target.closest("[data-add-product]");
    if (tile) {
      add(tile.dataset.addProduct, tile.dataset.name, tile.dataset.price, 1, true);
      return;
    }
    const item = event.target.closest("[data-line]");
    if (!item) return;
    const line = lines.get(item.dataset.line);
    if (event.target.closest("[data-more]")) setQuantity(line.id, Math.min(MAX_QUANTITY, line.quantity + 1));
    else if (event.target.closest("[data-less]")) setQuantity(line.id, line.quantity - 1);
    else if (event.target.closest("[data-remove]")) setQuantity(line.id, 0);
  });

  // Typing a quantity updates the totals without rebuilding the list (which would lose focus).
  form.addEventListener("input", function (event) {
    if (event.target.name !== "quantity") return;
    const item = event.target.closest("[data-line]");
    const line = lines.get(item.dataset.line);
    const value = parseInt(event.target.value, 10);
    line.quantity = Number.isNaN(value) ? 0 : value;
    item.querySelector("[data-line-total]").textContent = money(line.cents * Math.max(0, line.quantity));
    totals();
  });

  if (clear) {
    clear.addEventListener("click", function () {
      lines.clear();
      render();
    });
  }

  // After a refused sale the server sends the cart back, so nothing has to be tapped again.
  JSON.parse(document.getElementById("cart-initial").textContent).forEach(function (line) {
    add(String(line.product), line.name, line.price, line.quantity, line.active);
  });
  render();
})();
