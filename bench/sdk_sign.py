"""One build-and-sign of a payment with Stellar's Python SDK, as a whole process (benchmark peer)."""
import os
from stellar_sdk import Account, Asset, Keypair, Network, TransactionBuilder

kp = Keypair.from_secret(os.environ["BENCH_SECRET"])
tx = (
    TransactionBuilder(Account(kp.public_key, 1233), Network.TESTNET_NETWORK_PASSPHRASE, base_fee=100)
    .add_time_bounds(0, 1900000000)
    .append_payment_op(os.environ["BENCH_DEST"], Asset.native(), "10")
    .build()
)
tx.sign(kp)
print(tx.to_xdr())
