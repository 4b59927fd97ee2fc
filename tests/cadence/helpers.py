"""Shared by the cadence tests: the sandbox's URLs, friendbot, a Horizon and an RPC client.

The tests run through tests/it/sandbox_cadence.rs, which starts `airgap-relay sandbox` with a
short realistic ledger period (`--close-every 200ms`) and sets HORIZON_URL and RPC_URL.
Expectations are Horizon's, Stellar RPC's and stellar-core's documented behaviour.
"""

import os
import time

import requests
from stellar_sdk import Keypair, Network, Server, SorobanServer, TransactionBuilder

PASSPHRASE = Network.STANDALONE_NETWORK_PASSPHRASE
HORIZON_URL = os.environ.get("HORIZON_URL", "")
RPC_URL = os.environ.get("RPC_URL", "")


def horizon():
    return Server(HORIZON_URL)


def rpc():
    return SorobanServer(RPC_URL)


def fund(kp):
    r = requests.get(f"{HORIZON_URL}/friendbot", params={"addr": kp.public_key}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def funded(n=1):
    kps = [Keypair.random() for _ in range(n)]
    for kp in kps:
        fund(kp)
    return kps if n > 1 else kps[0]


def builder(account, fee=100, timeout=300):
    return TransactionBuilder(account, PASSPHRASE, base_fee=fee).set_timeout(timeout)


def rpc_call(method, params=None):
    body = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        body["params"] = params
    return requests.post(RPC_URL, json=body, timeout=30).json()


def latest_ledger():
    return requests.get(HORIZON_URL, timeout=10).json()["history_latest_ledger"]


def wait_for_ledger(after, timeout=10):
    """Wait until a ledger after `after` closed; return its sequence."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        seq = latest_ledger()
        if seq > after:
            return seq
        time.sleep(0.05)
    raise AssertionError(f"no ledger after {after} within {timeout}s")


def toid_parts(token):
    t = int(token)
    return t >> 32, (t >> 12) & 0xFFFFF, t & 0xFFF


def without_a_close_in_between(scenario, tries=5):
    """Run `scenario` until it ran without a ledger closing at the wrong moment.

    Scenarios that need two submissions to reach the same open ledger return False when the
    ledger closed between them (a 200 ms ledger can); anything else is a real failure."""
    for _ in range(tries):
        if scenario():
            return
    raise AssertionError(f"a ledger closed mid-scenario {tries} times in a row")
