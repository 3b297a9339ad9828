"""Simulated cloud printers, written from the vendors' protocol descriptions.

- ``CloudPrntPrinter``: a Star CloudPRNT (HTTP) client. It POSTs its JSON status, GETs the job in
  the first offered media type it supports, "prints" it (keeps the bytes), and DELETEs with the
  result code and the jobToken. ``restart()`` forgets everything in memory, as a power cycle does.
- ``EpsonSdpPrinter``: an Epson Server Direct Print client. It posts ``ConnectionType=GetRequest``,
  "prints" each ``ePOSPrint`` of the ``PrintRequestInfo`` it gets, and posts ``SetResponse`` with a
  ``PrintResponseInfo``; it answers a Digest challenge like the printer's firmware does.

Both speak through a *transport*: ``HttpTransport`` (a real server over the network) or
``DjangoClientTransport`` (Django's test client). A transport's ``request(method, path, query,
body, headers)`` returns ``(status, headers, body bytes)``.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree as ET

EPOS_NS = "{http://www.epson-pos.com/schemas/2011/03/epos-print}"


class HttpTransport:
    def __init__(self, base_url: str, timeout: float = 15.0):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout = timeout
        self.connection = None

    def request(self, method, path, query=None, body=b"", headers=None):
        target = path + ("?" + urlencode(query) if query else "")
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.connection.request(method, target, body=body or None, headers=headers or {})
                response = self.connection.getresponse()
                data = response.read()
                return response.status, {k.lower(): v for k, v in response.getheaders()}, data
            except (http.client.HTTPException, ConnectionError, OSError):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class DjangoClientTransport:
    def __init__(self, client, **extra):
        self.client = client
        self.extra = extra

    def request(self, method, path, query=None, body=b"", headers=None):
        target = path + ("?" + urlencode(query) if query else "")
        headers = dict(headers or {})
        content_type = headers.pop("Content-Type", "application/octet-stream")
        meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
        response = self.client.generic(
            method, target, data=body or b"", content_type=content_type, **meta, **self.extra
        )
        return response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content

    def close(self):
        pass


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@dataclass
class CloudPrntPrinter:
    transport: object
    mac: str
    secret: str
    path: str = "/cloudprnt/"
    supported: tuple = ("image/png", "text/plain")
    status_code: str = "200 OK"
    printed: list = field(default_factory=list)  # (media type, bytes) actually printed
    current: dict | None = None  # the job being handled (lost on restart)
    log: list = field(default_factory=list)

    def headers(self, **extra):
        return {"Authorization": basic("printer", self.secret), **extra}

    def poll(self):
        body = json.dumps(
            {
                "status": "23 6 0 0 0 0 0 0 0 ",
                "printerMAC": self.mac,
                "statusCode": self.status_code.replace(" ", "%20"),
                "printingInProgress": self.current is not None,
                "clientAction": None,
            }
        ).encode()
        status, _headers, data = self.transport.request(
            "POST", self.path, body=body, headers=self.headers(**{"Content-Type": "application/json"})
        )
        self.log.append(("POST", status))
        if status != 200:
            raise ProtocolFailure(status, data)
        answer = json.loads(data)
        if answer.get("jobReady"):
            offered = answer.get("mediaTypes") or []
            chosen = next((media for media in offered if media in self.supported), None)
            self.current = {"token": answer.get("jobToken", ""), "type": chosen}
        return answer

    def fetch(self):
        job = self.current
        query = {"mac": self.mac, "type": job["type"] or "none"}
        if job["token"]:
            query["token"] = job["token"]
        status, headers, data = self.transport.request("GET", self.path, query, headers=self.headers())
        self.log.append(("GET", status))
        if status != 200:
            raise ProtocolFailure(status, data)
        job["body"], job["content_type"] = data, headers.get("content-type", "")
        return data

    def confirm(self, code="200 OK", token=None):
        query = {"mac": self.mac, "code": code}
        token = self.current["token"] if token is None else token
        if token:
            query["token"] = token
        status, _headers, data = self.transport.request("DELETE", self.path, query, headers=self.headers())
        self.log.append(("DELETE", status))
        if status != 200:
            raise ProtocolFailure(status, data)
        self.current = None
        return json.loads(data)

    def print_current(self):
        self.printed.append((self.current["type"], self.current["body"]))

    def cycle(self):
        """One poll; when a job is ready: fetch, print, confirm. Returns the printed bytes or None."""
        answer = self.poll()
        if not answer.get("jobReady"):
            return None
        body = self.fetch()
        self.print_current()
        self.confirm("200 OK")
        return body

    def restart(self):
        """Power cycle: whatever was in memory is gone (what was printed stays on paper)."""
        self.current = None


@dataclass
class EpsonSdpPrinter:
    transport: object
    device_id: str
    secret: str
    name: str = "TM-m30"
    path: str = "/epson/sdp/"
    use_digest: bool = True
    result_code: str = ""  # "" prints; e.g. "EPTR_REC_EMPTY" fails with paper out
    printed: list = field(default_factory=list)  # <epos-print> elements printed
    nonce: str | None = None
    nonce_count: int = 0

    def _post(self, form):
        body = urlencode(form).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        for _attempt in range(3):
            auth = self._authorization()
            status, response_headers, data = self.transport.request(
                "POST", self.path, body=body, headers={**headers, **({"Authorization": auth} if auth else {})}
            )
            challenge = response_headers.get("www-authenticate", "")
            if status == 401 and self.use_digest and "Digest" in challenge:
                found = re.search(r'nonce="([^"]+)"', challenge)
                if found and found.group(1) != self.nonce:
                    self.nonce, self.nonce_count = found.group(1), 0
                    continue  # the firmware answers the challenge once per new nonce
            return status, data
        return status, data

    def _authorization(self):
        if not self.use_digest:
            return basic(self.device_id, self.secret)
        if self.nonce is None:
            return None  # first request: no credentials, the server challenges
        self.nonce_count += 1
        nc = f"{self.nonce_count:08x}"
        cnonce = os.urandom(8).hex()
        ha1 = hashlib.md5(f"{self.device_id}:Cantina Print:{self.secret}".encode()).hexdigest()
        ha2 = hashlib.md5(f"POST:{self.path}".encode()).hexdigest()
        response = hashlib.md5(f"{ha1}:{self.nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
        return (
            f'Digest username="{self.device_id}", realm="Cantina Print", nonce="{self.nonce}", '
            f'uri="{self.path}", algorithm=MD5, qop=auth, nc={nc}, cnonce="{cnonce}", response="{response}"'
        )

    def get_request(self):
        """One GetRequest; returns [(printjobid, epos-print element)] (empty when nothing to print)."""
        status, data = self._post({"ConnectionType": "GetRequest", "ID": self.device_id, "Name": self.name})
        if status != 200:
            raise ProtocolFailure(status, data)
        if not data.strip():
            return []
        root = ET.fromstring(data)
        assert root.tag == "PrintRequestInfo", root.tag
        jobs = []
        for epos in root.findall("ePOSPrint"):
            job_id = epos.findtext("Parameter/printjobid", "")
            assert epos.findtext("Parameter/devid") == "local_printer"
            document = epos.find(f"PrintData/{EPOS_NS}epos-print")
            assert document is not None, data[:400]
            jobs.append((job_id, document))
        return jobs

    def set_response(self, results):
        """results: [(printjobid, success, code)]."""
        root = ET.Element("PrintResponseInfo", Version="2.00")
        for job_id, success, code in results:
            epos = ET.SubElement(root, "ePOSPrint")
            parameter = ET.SubElement(epos, "Parameter")
            ET.SubElement(parameter, "devid").text = "local_printer"
            ET.SubElement(parameter, "printjobid").text = job_id
            response = ET.SubElement(
                ET.SubElement(epos, "PrintResponse"),
                "response",
                {
                    "xmlns": "http://www.epson-pos.com/schemas/2011/03/epos-print",
                    "success": "true" if success else "false",
                    "code": code,
                    "status": "251658262" if success else "252313624",
                    "battery": "0",
                },
            )
            response.text = None
        xml = '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root, encoding="unicode")
        return self.post_raw(
            {"ConnectionType": "SetResponse", "ID": self.device_id, "Name": self.name, "ResponseFile": xml}
        )

    def set_status(self, asb: int):
        xml = (
            '<?xml version="1.0" encoding="utf-8"?><statusmonitor Version="1.00">'
            f'<printerstatus devicename="local_printer" asbstatus="0x{asb:08X}"/></statusmonitor>'
        )
        return self.post_raw({"ConnectionType": "SetStatus", "ID": self.device_id, "Status": xml})

    def post_raw(self, form):
        status, data = self._post(form)
        if status != 200:
            raise ProtocolFailure(status, data)
        return data

    def cycle(self):
        """GetRequest; print each job (or fail it with ``result_code``); SetResponse. Returns the jobs."""
        jobs = self.get_request()
        if not jobs:
            return []
        results = []
        for job_id, document in jobs:
            if self.result_code:
                results.append((job_id, False, self.result_code))
            else:
                self.printed.append(document)
                results.append((job_id, True, ""))
        self.set_response(results)
        return jobs


def epos_text(document) -> str:
    return "".join(element.text or "" for element in document.iter(f"{EPOS_NS}text"))


class ProtocolFailure(AssertionError):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body[:300]!r}")
        self.status = status
        self.body = body
