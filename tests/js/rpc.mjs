// The JavaScript SDK's rpc.Server (@stellar/stellar-sdk, unmodified) against the sandbox's
// Stellar RPC. argv: the RPC URL and the Horizon URL (for friendbot).
// Prints {"ok": true, ...} on success; exits 1 with the failed check on stderr otherwise.
let sdk;
try {
  sdk = await import("@stellar/stellar-sdk");
} catch (e) {
  process.stderr.write(`rpc.mjs: cannot load @stellar/stellar-sdk (${e.message}).\n` +
    "Install the test requirements: npm ci --prefix tests/js\n");
  process.exit(3);
}
const {
  rpc, Keypair, Networks, TransactionBuilder, Operation, Asset, Memo, scValToNative, nativeToScVal,
  Address, xdr,
} = sdk;

const [rpcUrl, horizonUrl] = process.argv.slice(2);
const server = new rpc.Server(rpcUrl, { allowHttp: true });
const passphrase = Networks.STANDALONE;

function check(cond, what) {
  if (!cond) {
    process.stderr.write(`rpc.mjs: ${what}\n`);
    process.exit(1);
  }
}

async function fund(kp) {
  const r = await fetch(`${horizonUrl}/friendbot?addr=${kp.publicKey()}`);
  check(r.status === 200, `friendbot: ${r.status} ${await r.text()}`);
}

const health = await server.getHealth();
check(health.status === "healthy", `getHealth: ${JSON.stringify(health)}`);
const network = await server.getNetwork();
check(network.passphrase === passphrase, `getNetwork: ${JSON.stringify(network)}`);

const [a, b] = [Keypair.random(), Keypair.random()];
await fund(a);
await fund(b);
const account = await server.getAccount(a.publicKey());
check(BigInt(account.sequenceNumber()) > 0n, "getAccount: a sequence number");

const tx = new TransactionBuilder(account, { fee: "100", networkPassphrase: passphrase })
  .addOperation(Operation.payment({ destination: b.publicKey(), asset: Asset.native(), amount: "1" }))
  .addMemo(Memo.id("42"))
  .setTimeout(300)
  .build();
tx.sign(a);
const sent = await server.sendTransaction(tx);
check(sent.status === "PENDING", `sendTransaction: ${JSON.stringify(sent)}`);
check(sent.hash === tx.hash().toString("hex"), "sendTransaction: the hash");

const got = await server.pollTransaction(sent.hash, { attempts: 100, sleepStrategy: () => 100 });
check(got.status === "SUCCESS", `pollTransaction: ${got.status}`);
check(got.envelopeXdr.toXDR("base64") === tx.toXDR(), "getTransaction: the envelope");
check(got.resultXdr.result().switch().name === "txSuccess", "getTransaction: the result");
check(got.ledger >= 2 && got.applicationOrder >= 1 && got.feeBump === false, "getTransaction: its place");

// the payment's CAP-67 event: a transfer on the native contract, the memo as to_muxed_id
const nativeContract = Asset.native().contractId(passphrase);
const toB = nativeToScVal(Address.fromString(b.publicKey())).toXDR("base64");
const events = await server.getEvents({
  startLedger: got.ledger,
  filters: [{ type: "contract", contractIds: [nativeContract], topics: [["*", "*", toB, "**"]] }],
  limit: 10,
});
const ev = events.events.find((e) => e.txHash === sent.hash);
check(ev, `getEvents: the payment's event in ${JSON.stringify(events.events.map((e) => e.id))}`);
check(ev.contractId.contractId() === nativeContract, "getEvents: the native contract");
check(scValToNative(ev.topic[0]) === "transfer", "getEvents: a transfer");
check(scValToNative(ev.topic[1]) === a.publicKey(), "getEvents: from");
check(scValToNative(ev.topic[3]) === "native", "getEvents: the asset");
const value = scValToNative(ev.value);
check(value.amount === 10000000n && value.to_muxed_id === 42n, `getEvents: the value ${value}`);

// the account entry, and an applied transaction sent again
const key = xdr.LedgerKey.account(new xdr.LedgerKeyAccount({ accountId: Keypair.fromPublicKey(b.publicKey()).xdrAccountId() }));
const entries = await server.getLedgerEntries(key);
check(entries.entries.length === 1, "getLedgerEntries: one entry");
const balance = entries.entries[0].val.account().balance().toBigInt();
check(balance === 100010000000n, `getLedgerEntries: the balance ${balance}`);
const again = await server.sendTransaction(tx);
check(again.status === "ERROR", `sendTransaction again: ${again.status}`);
check(again.errorResult.result().switch().name === "txBadSeq", "sendTransaction again: tx_bad_seq");

const txs = await server.getTransactions({ startLedger: got.ledger, pagination: { limit: 10 } });
check(txs.transactions.some((t) => t.txHash === sent.hash), "getTransactions: the transaction");
const latest = await server.getLatestLedger();
check(latest.sequence >= got.ledger, "getLatestLedger");
const fees = await server.getFeeStats();
check(fees.latestLedger >= got.ledger, "getFeeStats");

process.stdout.write(JSON.stringify({ ok: true, hash: sent.hash, ledger: got.ledger }) + "\n");
