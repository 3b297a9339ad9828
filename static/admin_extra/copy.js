// "Copy" buttons on the agent token page: [data-copy] names the field whose value to copy.
"use strict";
document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const field = document.getElementById(button.dataset.copy);
    field.select();
    try {
        await navigator.clipboard.writeText(field.value);
    } catch (error) {
        document.execCommand("copy");  // older browsers, or a page served without HTTPS
    }
    button.classList.add("cantina-copied");
});
