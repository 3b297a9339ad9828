/* Cash at the counter: with payment "cash", ask the amount received and show the change before
 * confirming. Whole cents only, never floating point. The server checks it again
 * (orders.services.order_create: received ≥ total, Decimal) and prints both on the receipt.
 */
(function () {
  "use strict";

  const form = document.querySelector("form[data-cart]");
  const box = document.querySelector("[data-cash]");
  if (!form || !box) return;
  const input = box.querySelector("input[name=amount_received]");
  const change = box.querySelector("[data-change]");
  const totalElement = form.querySelector("[data-cart-total]");
  const numberFormat = JSON.parse(document.getElementById("money-format").textContent);

  function cashSelected() {
    const checked = form.querySelector("input[name=payment_method]:checked");
    return checked !== null && checked.value === "cash";
  }

  // "20", "20,5", "20.50", "1.234,50" → cents, or null when it is not an amount.
  function toCents(text) {
    let value = String(text || "").trim().replace(/\s|R\$/g, "");
    if (!value) return null;
    const lastSeparator = Math.max(value.lastIndexOf(","), value.lastIndexOf("."));
    let whole = value;
    let fraction = "";
    if (lastSeparator !== -1 && value.length - lastSeparator - 1 <= 2) {
      whole = value.slice(0, lastSeparator);
      fraction = value.slice(lastSeparator + 1);
    }
    whole = whole.replace(/[.,]/g, "");
    if (!/^\d*$/.test(whole) || !/^\d*$/.test(fraction) || (whole + fraction) === "") return null;
    return parseInt(whole || "0", 10) * 100 + parseInt((fraction + "00").slice(0, 2), 10);
  }

  function money(cents) {
    const sign = cents < 0 ? "-" : "";
    cents = Math.abs(cents);
    const whole = Math.floor(cents / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, numberFormat.thousands);
    return sign + "R$ " + whole + numberFormat.decimal + String(cents % 100).padStart(2, "0");
  }

  function update() {
    box.hidden = !cashSelected();
    input.disabled = box.hidden;
    const total = parseInt(totalElement.dataset.cents || "0", 10);
    const received = toCents(input.value);
    if (box.hidden || received === null) {
      change.textContent = "";
      change.dataset.short = "false";
      input.setCustomValidity("");
      return;
    }
    if (received < total) {
      change.textContent = box.dataset.shortLabel.replace("{amount}", money(total - received));
      change.dataset.short = "true";
      input.setCustomValidity(box.dataset.shortLabel.replace("{amount}", money(total - received)));
    } else {
      change.textContent = box.dataset.changeLabel.replace("{amount}", money(received - total));
      change.dataset.short = "false";
      input.setCustomValidity("");
    }
  }

  form.addEventListener("change", update);
  form.addEventListener("cart:total", update);
  input.addEventListener("input", update);
  update();
})();
