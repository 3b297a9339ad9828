"""The fake printer over real TCP: one file per job, correct DLE EOT answers, readable text."""

import asyncio
import re
import subprocess

import pytest

from agent.fakeprinter import FakePrinterServer, JobStore
from tests.agent.agent_support import PYTHON, agent_env
from tools.polling import wait_for_async

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]


async def send(port: int, data: bytes, *, read: int = 0) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.readexactly(read), 5) if read else b""
    writer.write_eof()
    await asyncio.wait_for(reader.read(), 5)  # the printer closes once it has stored the job
    writer.close()
    return answer


async def test_each_connection_is_stored_as_one_job_file(fake_printer):
    await send(fake_printer.server.port, b"\x1b@first job\n")
    await send(fake_printer.server.port, b"\x1b@second job\n")

    assert fake_printer.jobs() == [b"\x1b@first job\n", b"\x1b@second job\n"]
    names = [p.name for p in fake_printer.store.jobs()]
    assert all(re.fullmatch(r"\d{8}T\d{6}_\d{6}-\d{4}\.bin", name) for name in names)
    assert [name[-8:] for name in names] == ["0001.bin", "0002.bin"]


async def test_status_queries_are_answered_and_not_stored(fake_printer):
    answer = await send(fake_printer.server.port, b"\x10\x04\x01\x10\x04\x04hello\n\x10\x04\x02", read=3)

    assert answer == b"\x12\x12\x12"
    assert fake_printer.jobs() == [b"hello\n"]


async def test_connection_with_only_status_queries_stores_nothing(fake_printer):
    answer = await send(fake_printer.server.port, b"\x10\x04\x01", read=1)

    assert answer == b"\x12"
    assert fake_printer.jobs() == []


@pytest.mark.parametrize(
    "state, expected",
    [
        ("ready", b"\x12\x12\x12\x12"),
        ("paper_low", b"\x12\x12\x12\x1e"),
        ("paper_out", b"\x1a\x32\x12\x72"),
        ("cover_open", b"\x1a\x16\x12\x12"),
        ("offline", b"\x1a\x12\x12\x12"),
    ],
)
async def test_dle_eot_answers_match_the_printer_state(fake_printer, state, expected):
    fake_printer.set_state(state)
    answer = await send(fake_printer.server.port, b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04", read=4)
    assert answer == expected


async def test_state_file_is_reread_on_every_query(fake_printer):
    reader, writer = await asyncio.open_connection("127.0.0.1", fake_printer.server.port)
    writer.write(b"\x10\x04\x04")
    assert await reader.readexactly(1) == b"\x12"
    fake_printer.set_state("paper_out")
    writer.write(b"\x10\x04\x04")
    assert await reader.readexactly(1) == b"\x72"
    writer.close()


async def test_offline_printer_drops_job_data(fake_printer):
    fake_printer.set_state("offline")
    await send(fake_printer.server.port, b"lost receipt\n")
    assert fake_printer.jobs() == []


async def test_status_query_bytes_inside_image_data_are_part_of_the_job(fake_printer):
    raster = b"\x1dv0\x00\x01\x00\x03\x00\x10\x04\x01"
    answer_task = send(fake_printer.server.port, raster)
    await answer_task
    assert fake_printer.jobs() == [raster]


async def test_text_rendering_beside_the_job_decodes_accents(fake_printer):
    from escpos.printer import Dummy

    receipt = Dummy()
    receipt.textln("Pão de queijo, coração")
    receipt.cut()
    await send(fake_printer.server.port, receipt.output)

    [job] = fake_printer.store.jobs()
    text = job.with_name(job.name.replace(".bin", ".txt")).read_text(encoding="utf-8")
    assert "Pão de queijo, coração" in text


async def test_job_store_names_keep_increasing_after_a_restart(tmp_path):
    first = JobStore(tmp_path, echo=False)
    first.save(b"a")
    again = JobStore(tmp_path, echo=False)
    again.save(b"b")
    assert [p.name[-8:] for p in again.jobs()] == ["0001.bin", "0002.bin"]


async def test_fake_printer_command_line_prints_the_receipt_to_its_console(tmp_path):
    out = tmp_path / "out"
    process = subprocess.Popen(
        [PYTHON, "-m", "agent.fakeprinter", "--port", "0", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=agent_env(tmp_path),
    )
    try:
        first = await asyncio.to_thread(process.stdout.readline)
        port = int(re.search(r"listening on 127\.0\.0\.1:(\d+)", first).group(1))
        await send(port, b"\x1bt\x13" + "Pão de queijo € 6,50\n".encode("cp858"))
        await wait_for_async(lambda: list(out.glob("*.bin")), message="job file")
        lines = [await asyncio.to_thread(process.stdout.readline) for _ in range(3)]
        assert "printed" in lines[0]
        assert "Pão de queijo € 6,50" in "".join(lines)
    finally:
        process.terminate()
        process.wait(10)


async def test_server_stores_partial_job_when_client_resets(tmp_path):
    store = JobStore(tmp_path, echo=False)
    server = FakePrinterServer(store, "127.0.0.1", 0)
    port = await server.start()
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"partial receipt\n")
    await writer.drain()
    writer.transport.abort()  # RST, as a killed agent would leave it
    await wait_for_async(lambda: store.jobs(), message="partial job stored")
    assert store.jobs()[0].read_bytes() == b"partial receipt\n"
    await server.stop()
