"""The staff pages, the dashboard and the admin work in Chromium under the Content-Security-Policy:
no script, style or connection is refused (no CSP violation), and the live link still connects."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import WAIT_MS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(240)]

# Runs before any page script (an init script is not subject to the page's CSP).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline") + " " + (event.sourceFile || ""));
});
"""


def watch(page):
    console = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda message: console.append(message.text))
    return console


def violations(page, console):
    recorded = page.evaluate("window.__cspViolations || []")
    return recorded + [
        text for text in console if "Content Security Policy" in text or "Content-Security-Policy" in text
    ]


def test_staff_pages_work_under_the_csp_without_violations(stack, open_page):
    server = stack["server"]
    page = open_page("desktop")
    console = watch(page)
    log_in(page, server)  # waits for the live link (WebSocket under connect-src 'self')
    response = page.request.get(f"{server.http_url}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "no-store" in response.headers["cache-control"]

    # A sale: the cart script runs, the receipt state arrives over the live link.
    page.locator("[data-add-product]", has_text="Pão de queijo").click()
    expect(page.locator("[data-cart-total]")).to_have_text("R$ 4,50")
    page.get_by_role("button", name="Confirmar e imprimir").click()
    expect(page).to_have_url(re.compile(r"/\?order=\d+$"))
    expect(page.locator("[data-order-jobs] [data-job-badge]")).to_have_text("impresso", timeout=WAIT_MS)
    assert violations(page, console) == []

    for path in ("/scheduled/", "/scheduled/new/", "/printers/", "/jobs/"):
        page.goto(f"{server.http_url}{path}")
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=WAIT_MS)
        assert violations(page, console) == [], path

    page.goto(f"{server.http_url}/jobs/")
    page.locator("table a[href^='/jobs/']").first.click()
    expect(page.locator(".receipt-preview .cp-receipt")).to_be_visible()
    # The preview's style sheet applied (monospace receipt), though it is not inline.
    font = page.locator(".cp-receipt").evaluate("element => getComputedStyle(element).fontFamily")
    assert "mono" in font.lower()
    assert violations(page, console) == []

    # The watch really sees violations: an injected inline script is refused and reported.
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1'; document.body.append(s); }"
    )
    page.wait_for_function("() => window.__cspViolations.length > 0", timeout=WAIT_MS)
    assert page.evaluate("window.__ran") is None


def test_the_dashboard_and_the_admin_work_under_the_csp(stack, open_page):
    server = stack["server"]
    page = open_page("desktop")
    console = watch(page)
    log_in(page, server)

    page.goto(f"{server.http_url}/admin/print/")
    expect(page.locator("#content")).to_be_visible()
    # The dashboard script polls its data: wait for one refresh to have happened.
    page.wait_for_function(
        "() => window.performance.getEntriesByType('resource').some(e => e.name.includes('/admin/print/data/'))",
        timeout=WAIT_MS,
    )
    for path in ("/admin/", "/admin/printing/printjob/", "/admin/printing/printer/", "/admin/orders/order/"):
        page.goto(f"{server.http_url}{path}")
        expect(page.locator("#content")).to_be_visible()
    page.goto(f"{server.http_url}/admin/printing/printjob/")
    page.locator("#result_list tbody a").first.click()
    expect(page.locator(".cantina-receipt-preview .cp-receipt")).to_be_visible()
    assert violations(page, console) == []
