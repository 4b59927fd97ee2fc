// Independent check with the JavaScript SDK (@stellar/stellar-base).
// stdin: {"envelope": base64, "network": name or passphrase, "public_keys": ["G…"]}
// stdout: {"hash": hex, "signatures": [{"hint": hex, "signer": "G…" or null}]}, the shape of
// `sdk_oracle.py verify`: signer is the first listed key whose signature verifies over tx.hash().
let sdk;
try {
  sdk = await import("@stellar/stellar-base");
} catch (e) {
  process.stderr.write(`verify.mjs: cannot load @stellar/stellar-base (${e.message}).\n` +
    "Install the test requirements: npm ci --prefix tests/js\n");
  process.exit(3);
}
const { Keypair, Networks, TransactionBuilder } = sdk;

const NETWORKS = {
  testnet: Networks.TESTNET,
  pubnet: Networks.PUBLIC,
  futurenet: Networks.FUTURENET,
  standalone: Networks.STANDALONE,
};

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
try {
  const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const passphrase = NETWORKS[input.network] ?? input.network;
  const tx = TransactionBuilder.fromXDR(input.envelope, passphrase);
  const hash = tx.hash();
  const keys = (input.public_keys ?? []).map((k) => Keypair.fromPublicKey(k));
  const signatures = tx.signatures.map((sig) => {
    const signature = sig.signature();
    const kp = keys.find((k) => k.verify(hash, signature));
    return { hint: Buffer.from(sig.hint()).toString("hex"), signer: kp ? kp.publicKey() : null };
  });
  process.stdout.write(JSON.stringify({ hash: hash.toString("hex"), signatures }) + "\n");
} catch (e) {
  process.stderr.write(`verify.mjs: ${e.stack ?? e}\n`);
  process.exit(2);
}
