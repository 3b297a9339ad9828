"""The print API's and cloud printers' fixtures, for the attacks on them here."""

from tests.api.conftest import make_key, printer  # noqa: F401
from tests.cloud.conftest import epson, make_cloud_printer, star  # noqa: F401
