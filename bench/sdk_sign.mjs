// One build-and-sign of a payment with Stellar's JS SDK (@stellar/stellar-base), as a whole process.
import { createRequire } from "node:module";
const require = createRequire(new URL("../tests/js/package.json", import.meta.url));
const { Account, Asset, Keypair, Networks, Operation, TransactionBuilder } = require("@stellar/stellar-base");

const kp = Keypair.fromSecret(process.env.BENCH_SECRET);
const tx = new TransactionBuilder(new Account(kp.publicKey(), "1233"), {
  fee: "100",
  networkPassphrase: Networks.TESTNET,
  timebounds: { minTime: 0, maxTime: 1900000000 },
})
  .addOperation(Operation.payment({ destination: process.env.BENCH_DEST, asset: Asset.native(), amount: "10" }))
  .build();
tx.sign(kp);
console.log(tx.toEnvelope().toXDR("base64"));
