// Print dashboard: polls the JSON view and refills the page rendered by
// templates/admin/printing/dashboard.html. Only textContent and attributes are set, never HTML.
"use strict";

(function () {
    const root = document.querySelector(".cantina-dashboard");
    if (!root) return;
    const url = root.dataset.url;
    const every = Math.max(2, Number(root.dataset.refreshSeconds) || 5) * 1000;
    const errorBox = root.querySelector(".cantina-live__error");

    function pick(data, path) {
        return path.split(".").reduce((value, key) => (value == null ? value : value[key]), data);
    }

    function text(value) {
        return value == null ? "" : String(value);
    }

    function fillItem(element, item) {
        const nodes = [element, ...element.querySelectorAll("*")];
        for (const node of nodes) {
            const d = node.dataset || {};
            if (d.item) node.textContent = text(pick(item, d.item));
            if (d.itemHref) node.setAttribute("href", text(pick(item, d.itemHref)));
            if (d.itemTitle) node.setAttribute("title", text(pick(item, d.itemTitle)));
            if (d.itemModifier) node.classList.add(node.classList[0] + "--" + text(pick(item, d.itemModifier)));
        }
    }

    function fillRows(container, rows) {
        const template = container.querySelector("template");
        const columns = template.content.firstElementChild.children.length || 1;
        const fresh = rows.map((row) => {
            const element = template.content.firstElementChild.cloneNode(true);
            fillItem(element, row);
            return element;
        });
        if (!fresh.length && container.dataset.emptyText) {
            const tr = document.createElement("tr");
            tr.className = "cantina-empty";
            const td = document.createElement("td");
            td.colSpan = columns;
            td.textContent = container.dataset.emptyText;
            tr.appendChild(td);
            fresh.push(tr);
        }
        container.replaceChildren(template, ...fresh);
    }

    function render(data) {
        for (const node of root.querySelectorAll("[data-field]")) {
            node.textContent = text(pick(data, node.dataset.field));
            if (node.dataset.titleField) node.setAttribute("title", text(pick(data, node.dataset.titleField)));
        }
        for (const node of root.querySelectorAll("[data-href]")) {
            node.setAttribute("href", text(pick(data, node.dataset.href)));
        }
        for (const container of root.querySelectorAll("[data-rows]")) {
            fillRows(container, pick(data, container.dataset.rows) || []);
        }
    }

    async function refresh() {
        if (!document.hidden) {
            try {
                const response = await fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}});
                if (!response.ok) throw new Error(String(response.status));
                render(await response.json());
                errorBox.hidden = true;
            } catch (error) {
                errorBox.textContent = root.dataset.errorText;
                errorBox.hidden = false;
            }
        }
        window.setTimeout(refresh, every);
    }

    window.setTimeout(refresh, every);
})();
