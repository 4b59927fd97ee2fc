"""The Python SDK's own payments stream (`server.payments().for_account(A).cursor(c).stream()`,
unmodified) reads every payment exactly once while the sandbox closes the stream under it:
after Horizon's default of 10 events, and after its connection timeout (--stream-timeout 2s
here), the SDK reconnects from the last event's id."""

import threading
import time

import pytest
from stellar_sdk import Asset

from helpers import HORIZON_URL, builder, funded, horizon

pytestmark = pytest.mark.skipif(not HORIZON_URL, reason="HORIZON_URL not set")

PAYMENTS = 24


def test_stream_across_server_side_closes_without_gap_or_duplicate():
    base = funded()
    senders = funded(4)
    s = horizon()
    start = s.payments().for_account(base.public_key).order(desc=True).limit(1).call()
    cursor = start["_embedded"]["records"][0]["paging_token"]
    sent = []
    errors = []

    def pay():
        try:
            for i in range(PAYMENTS):
                kp = senders[i % len(senders)]
                tx = builder(s.load_account(kp.public_key)).append_payment_op(base.public_key, Asset.native(), str(i + 1)).build()
                tx.sign(kp)
                s.submit_transaction(tx)
                sent.append(tx.hash_hex())
                if i in (8, 16):
                    # quiet longer than the stream's connection timeout: the server closes it
                    time.sleep(2.5)
        except Exception as e:  # surfaced below
            errors.append(e)

    worker = threading.Thread(target=pay)
    started = time.time()
    worker.start()
    seen = []
    tokens = []
    for record in s.payments().for_account(base.public_key).cursor(cursor).stream():
        seen.append(record["transaction_hash"])
        tokens.append(int(record["paging_token"]))
        if len(seen) >= PAYMENTS or time.time() - started > 90:
            break
    worker.join(timeout=60)
    assert not errors, errors
    assert seen == sent, "every payment once, in ledger order"
    assert tokens == sorted(set(tokens))
    # the stream outlived at least two server-side closes (10-event limit and 2 s timeout)
    assert time.time() - started > 5
