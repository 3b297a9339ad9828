/* Small form conveniences for every page: selects that submit on change ([data-autosubmit]),
 * buttons that ask first ([data-confirm="question"]), and no double submission of a form. */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    const select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.requestSubmit();
  });

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });

  // A second tap while the first request is on its way would repeat the action.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.method.toLowerCase() !== "post" || event.defaultPrevented) return;
    if (form.dataset.submitting) {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "1";
    const button = event.submitter;
    if (button && button.dataset.sending) {
      button.dataset.label = button.textContent;
      button.textContent = button.dataset.sending;
    }
  });

  // Coming back with the browser's back button shows the page as it was left: usable again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (form) { delete form.dataset.submitting; });
    document.querySelectorAll("[data-label]").forEach(function (button) { button.textContent = button.dataset.label; });
  });
})();
