"""Printers with no agent: Star CloudPRNT and Epson Server Direct Print poll the server over HTTP(S).

``services`` hands jobs out and takes confirmations through the same claim and status workflows
as agent printers (``printing.services.jobs_claim`` / ``job_mark_status``); ``cloudprnt`` and
``epson_sdp`` speak the vendors' protocols; ``auth`` checks the printer's secret; ``views`` and
``urls`` are the two endpoints, ``/cloudprnt/`` and ``/epson/sdp/``.
"""
