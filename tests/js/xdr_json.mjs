// Independent SEP-51 check with @stellar/stellar-xdr-json (the XDR-JSON that stellar-cli and
// Stellar Lab use, as WebAssembly).
// stdin: {"cases": [{"envelope": base64, "json": the signer's xdr_json}]}
// stdout: {"decoded": [the envelope decoded to JSON], "encoded": [the signer's JSON encoded to base64]}
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
let xdr;
try {
  xdr = await import("@stellar/stellar-xdr-json");
  const require = createRequire(import.meta.url);
  const wasm = require.resolve("@stellar/stellar-xdr-json/stellar_xdr_json_bg.wasm");
  xdr.initSync(readFileSync(wasm));
} catch (e) {
  process.stderr.write(`xdr_json.mjs: cannot load @stellar/stellar-xdr-json (${e.message}).\n` +
    "Install the test requirements: npm ci --prefix tests/js\n");
  process.exit(3);
}
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
try {
  const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const decoded = input.cases.map((c) => JSON.parse(xdr.decode("TransactionEnvelope", c.envelope)));
  const encoded = input.cases.map((c) => xdr.encode("TransactionEnvelope", JSON.stringify(c.json)));
  process.stdout.write(JSON.stringify({ decoded, encoded }) + "\n");
} catch (e) {
  process.stderr.write(`xdr_json.mjs: ${e.stack ?? e}\n`);
  process.exit(2);
}
