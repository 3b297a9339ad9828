"""Agent tokens: random, 256-bit, stored only as a hash."""

from printing.models import Printer, hash_token


def test_tokens_are_256_bit_and_never_look_like_a_command_line_flag():
    printer = Printer(name="x")
    tokens = {printer.issue_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(token.startswith("cp_") and len(token) >= 3 + 43 for token in tokens)
    assert printer.token_hash not in tokens and len(printer.token_hash) == 64


def test_only_the_hash_is_stored_and_matching_is_exact():
    printer = Printer(name="x")
    token = printer.issue_token()
    assert token not in (printer.token_hash, printer.token_prefix)
    assert printer.token_hash == hash_token(token)
    assert printer.token_matches(token)
    assert not printer.token_matches(token[:-1])
    printer.revoke_token()
    assert not printer.token_matches(token)
