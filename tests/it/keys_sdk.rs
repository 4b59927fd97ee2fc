//! Key material against independent sources: the SEP-0005 document's published test vectors, and
//! Stellar's Python SDK (`stellar_sdk`, with its PyNaCl and Python's own `hashlib.scrypt`) run at
//! test time (by the Python `util::python` names, `$AIRGAP_TEST_PYTHON` or `python3`). These tests
//! need `stellar-sdk` installed there and fail, rather than skip, without it.

use airgap::keys::mnemonic::{generate_mnemonic, seed_from_mnemonic};
use serde_json::{json, Value};

use crate::util::{python, run_python, PYTHON_HINT};

/// Runs `script` under the oracles' Python with `input` as JSON on stdin and returns its stdout
/// as JSON.
fn py(script: &str, input: &Value) -> Value {
    let probe = run_python(
        python().args([
            "-c",
            "import stellar_sdk, nacl.bindings, hashlib; hashlib.scrypt",
        ]),
        None,
    );
    assert!(
        probe.status.success(),
        "python cannot import stellar_sdk: {}; {PYTHON_HINT}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let out = run_python(
        python().args(["-c", script]),
        Some(input.to_string().as_bytes()),
    );
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

fn strkeys(seed: &[u8; 32]) -> (String, String) {
    let public = ed25519_dalek::SigningKey::from_bytes(seed)
        .verifying_key()
        .to_bytes();
    (
        stellar_strkey::ed25519::PublicKey(public)
            .to_string()
            .as_str()
            .to_owned(),
        stellar_strkey::ed25519::PrivateKey(*seed)
            .as_unredacted()
            .to_string()
            .as_str()
            .to_owned(),
    )
}

// ---------------------------------------------------------------------------------------------
// SEP-0005 test vectors, copied from stellar/stellar-protocol, ecosystem/sep-0005.md, section
// "Test Cases" (Tests 1 to 5, "Stellar keys": m/44'/148'/x' public key and secret seed).

struct Sep5Case {
    phrase: &'static str,
    passphrase: &'static str,
    keys: [(&'static str, &'static str); 10],
}

const SEP5_CASES: [Sep5Case; 5] = [
    // Test 1: 12 words.
    Sep5Case {
        phrase: "illness spike retreat truth genius clock brain pass fit cave bargain toe",
        passphrase: "",
        keys: [
            ("GDRXE2BQUC3AZNPVFSCEZ76NJ3WWL25FYFK6RGZGIEKWE4SOOHSUJUJ6", "SBGWSG6BTNCKCOB3DIFBGCVMUPQFYPA2G4O34RMTB343OYPXU5DJDVMN"),
            ("GBAW5XGWORWVFE2XTJYDTLDHXTY2Q2MO73HYCGB3XMFMQ562Q2W2GJQX", "SCEPFFWGAG5P2VX5DHIYK3XEMZYLTYWIPWYEKXFHSK25RVMIUNJ7CTIS"),
            ("GAY5PRAHJ2HIYBYCLZXTHID6SPVELOOYH2LBPH3LD4RUMXUW3DOYTLXW", "SDAILLEZCSA67DUEP3XUPZJ7NYG7KGVRM46XA7K5QWWUIGADUZCZWTJP"),
            ("GAOD5NRAEORFE34G5D4EOSKIJB6V4Z2FGPBCJNQI6MNICVITE6CSYIAE", "SBMWLNV75BPI2VB4G27RWOMABVRTSSF7352CCYGVELZDSHCXWCYFKXIX"),
            ("GBCUXLFLSL2JE3NWLHAWXQZN6SQC6577YMAU3M3BEMWKYPFWXBSRCWV4", "SCPCY3CEHMOP2TADSV2ERNNZBNHBGP4V32VGOORIEV6QJLXD5NMCJUXI"),
            ("GBRQY5JFN5UBG5PGOSUOL4M6D7VRMAYU6WW2ZWXBMCKB7GPT3YCBU2XZ", "SCK27SFHI3WUDOEMJREV7ZJQG34SCBR6YWCE6OLEXUS2VVYTSNGCRS6X"),
            ("GBY27SJVFEWR3DUACNBSMJB6T4ZPR4C7ZXSTHT6GMZUDL23LAM5S2PQX", "SDJ4WDPOQAJYR3YIAJOJP3E6E4BMRB7VZ4QAEGCP7EYVDW6NQD3LRJMZ"),
            ("GAY7T23Z34DWLSTEAUKVBPHHBUE4E3EMZBAQSLV6ZHS764U3TKUSNJOF", "SA3HXJUCE2N27TBIZ5JRBLEBF3TLPQEBINP47E6BTMIWW2RJ5UKR2B3L"),
            ("GDJTCF62UUYSAFAVIXHPRBR4AUZV6NYJR75INVDXLLRZLZQ62S44443R", "SCD5OSHUUC75MSJG44BAT3HFZL2HZMMQ5M4GPDL7KA6HJHV3FLMUJAME"),
            ("GBTVYYDIYWGUQUTKX6ZMLGSZGMTESJYJKJWAATGZGITA25ZB6T5REF44", "SCJGVMJ66WAUHQHNLMWDFGY2E72QKSI3XGSBYV6BANDFUFE7VY4XNXXR"),
        ],
    },
    // Test 2: 15 words.
    Sep5Case {
        phrase: "resource asthma orphan phone ice canvas fire useful arch jewel impose vague theory cushion top",
        passphrase: "",
        keys: [
            ("GAVXVW5MCK7Q66RIBWZZKZEDQTRXWCZUP4DIIFXCCENGW2P6W4OA34RH", "SAKS7I2PNDBE5SJSUSU2XLJ7K5XJ3V3K4UDFAHMSBQYPOKE247VHAGDB"),
            ("GDFCYVCICATX5YPJUDS22KM2GW5QU2KKSPPPT2IC5AQIU6TP3BZSLR5K", "SAZ2H5GLAVWCUWNPQMB6I3OHRI63T2ACUUAWSH7NAGYYPXGIOPLPW3Q4"),
            ("GAUA3XK3SGEQFNCBM423WIM5WCZ4CR4ZDPDFCYSFLCTODGGGJMPOHAAE", "SDVSSLPL76I33DKAI4LFTOAKCHJNCXUERGPCMVFT655Z4GRLWM6ZZTSC"),
            ("GAH3S77QXTAPZ77REY6LGFIJ2XWVXFOKXHCFLA6HQTL3POLVZJDHHUDM", "SCH56YSGOBYVBC6DO3ZI2PY62GBVXT4SEJSXJOBQYGC2GCEZSB5PEVBZ"),
            ("GCSCZVGV2Y3EQ2RATJ7TE6PVWTW5OH5SMG754AF6W6YM3KJF7RMNPB4Y", "SBWBM73VUNBGBMFD4E2BA7Q756AKVEAAVTQH34RYEUFD6X64VYL5KXQ2"),
            ("GDKWYAJE3W6PWCXDZNMFNFQSPTF6BUDANE6OVRYMJKBYNGL62VKKCNCC", "SAVS4CDQZI6PSA5DPCC42S5WLKYIPKXPCJSFYY4N3VDK25T2XX2BTGVX"),
            ("GCDTVB4XDLNX22HI5GUWHBXJFBCPB6JNU6ZON7E57FA3LFURS74CWDJH", "SDFC7WZT3GDQVQUQMXN7TC7UWDW5E3GSMFPHUT2TSTQ7RKWTRA4PLBAL"),
            ("GBTDPL5S4IOUQHDLCZ7I2UXJ2TEHO6DYIQ3F2P5OOP3IS7JSJI4UMHQJ", "SA6UO2FIYC6AS2MSDECLR6F7NKCJTG67F7R4LV2GYB4HCZYXJZRLPOBB"),
            ("GD3KWA24OIM7V3MZKDAVSLN3NBHGKVURNJ72ZCTAJSDTF7RIGFXPW5FQ", "SBDNHDDICLLMBIDZ2IF2D3LH44OVUGGAVHQVQ6BZQI5IQO6AB6KNJCOV"),
            ("GB3C6RRQB3V7EPDXEDJCMTS45LVDLSZQ46PTIGKZUY37DXXEOAKJIWSV", "SDHRG2J34MGDAYHMOVKVJC6LX2QZMCTIKRO5I4JQ6BJQ36KVL6QUTT72"),
        ],
    },
    // Test 3: 24 words.
    Sep5Case {
        phrase: "bench hurt jump file august wise shallow faculty impulse spring exact slush thunder author capable act festival slice deposit sauce coconut afford frown better",
        passphrase: "",
        keys: [
            ("GC3MMSXBWHL6CPOAVERSJITX7BH76YU252WGLUOM5CJX3E7UCYZBTPJQ", "SAEWIVK3VLNEJ3WEJRZXQGDAS5NVG2BYSYDFRSH4GKVTS5RXNVED5AX7"),
            ("GB3MTYFXPBZBUINVG72XR7AQ6P2I32CYSXWNRKJ2PV5H5C7EAM5YYISO", "SBKSABCPDWXDFSZISAVJ5XKVIEWV4M5O3KBRRLSPY3COQI7ZP423FYB4"),
            ("GDYF7GIHS2TRGJ5WW4MZ4ELIUIBINRNYPPAWVQBPLAZXC2JRDI4DGAKU", "SD5CCQAFRIPB3BWBHQYQ5SC66IB2AVMFNWWPBYGSUXVRZNCIRJ7IHESQ"),
            ("GAFLH7DGM3VXFVUID7JUKSGOYG52ZRAQPZHQASVCEQERYC5I4PPJUWBD", "SBSGSAIKEF7JYQWQSGXKB4SRHNSKDXTEI33WZDRR6UHYQCQ5I6ZGZQPK"),
            ("GAXG3LWEXWCAWUABRO6SMAEUKJXLB5BBX6J2KMHFRIWKAMDJKCFGS3NN", "SBIZH53PIRFTPI73JG7QYA3YAINOAT2XMNAUARB3QOWWVZVBAROHGXWM"),
            ("GA6RUD4DZ2NEMAQY4VZJ4C6K6VSEYEJITNSLUQKLCFHJ2JOGC5UCGCFQ", "SCVM6ZNVRUOP4NMCMMKLTVBEMAF2THIOMHPYSSMPCD2ZU7VDPARQQ6OY"),
            ("GCUDW6ZF5SCGCMS3QUTELZ6LSAH6IVVXNRPRLAUNJ2XYLCA7KH7ZCVQS", "SBSHUZQNC45IAIRSAHMWJEJ35RY7YNW6SMOEBZHTMMG64NKV7Y52ZEO2"),
            ("GBJ646Q524WGBN5X5NOAPIF5VQCR2WZCN6QZIDOSY6VA2PMHJ2X636G4", "SC2QO2K2B4EBNBJMBZIKOYSHEX4EZAZNIF4UNLH63AQYV6BE7SMYWC6E"),
            ("GDHX4LU6YBSXGYTR7SX2P4ZYZSN24VXNJBVAFOB2GEBKNN3I54IYSRM4", "SCGMC5AHAAVB3D4JXQPCORWW37T44XJZUNPEMLRW6DCOEARY3H5MAQST"),
            ("GDXOY6HXPIDT2QD352CH7VWX257PHVFR72COWQ74QE3TEV4PK2KCKZX7", "SCPA5OX4EYINOPAUEQCPY6TJMYICUS5M7TVXYKWXR3G5ZRAJXY3C37GF"),
        ],
    },
    // Test 4: 24 words + BIP-39 passphrase.
    Sep5Case {
        phrase: "cable spray genius state float twenty onion head street palace net private method loan turn phrase state blanket interest dry amazing dress blast tube",
        passphrase: "p4ssphr4se",
        keys: [
            ("GDAHPZ2NSYIIHZXM56Y36SBVTV5QKFIZGYMMBHOU53ETUSWTP62B63EQ", "SAFWTGXVS7ELMNCXELFWCFZOPMHUZ5LXNBGUVRCY3FHLFPXK4QPXYP2X"),
            ("GDY47CJARRHHL66JH3RJURDYXAMIQ5DMXZLP3TDAUJ6IN2GUOFX4OJOC", "SBQPDFUGLMWJYEYXFRM5TQX3AX2BR47WKI4FDS7EJQUSEUUVY72MZPJF"),
            ("GCLAQF5H5LGJ2A6ACOMNEHSWYDJ3VKVBUBHDWFGRBEPAVZ56L4D7JJID", "SAF2LXRW6FOSVQNC4HHIIDURZL4SCGCG7UEGG23ZQG6Q2DKIGMPZV6BZ"),
            ("GBC36J4KG7ZSIQ5UOSJFQNUP4IBRN6LVUFAHQWT2ODEQ7Y3ASWC5ZN3B", "SDCCVBIYZDMXOR4VPC3IYMIPODNEDZCS44LDN7B5ZWECIE57N3BTV4GQ"),
            ("GA6NHA4KPH5LFYD6LZH35SIX3DU5CWU3GX6GCKPJPPTQCCQPP627E3CB", "SA5TRXTO7BG2Z6QTQT3O2LC7A7DLZZ2RBTGUNCTG346PLVSSHXPNDVNT"),
            ("GBOWMXTLABFNEWO34UJNSJJNVEF6ESLCNNS36S5SX46UZT2MNYJOLA5L", "SDEOED2KPHV355YNOLLDLVQB7HDPQVIGKXCAJMA3HTM4325ZHFZSKKUC"),
            ("GBL3F5JUZN3SQKZ7SL4XSXEJI2SNSVGO6WZWNJLG666WOJHNDDLEXTSZ", "SDYNO6TLFNV3IM6THLNGUG5FII4ET2H7NH3KCT6OAHIUSHKR4XBEEI6A"),
            ("GA5XPPWXL22HFFL5K5CE37CEPUHXYGSP3NNWGM6IK6K4C3EFHZFKSAND", "SDXMJXAY45W3WEFWMYEPLPIF4CXAD5ECQ37XKMGY5EKLM472SSRJXCYD"),
            ("GDS5I7L7LWFUVSYVAOHXJET2565MGGHJ4VHGVJXIKVKNO5D4JWXIZ3XU", "SAIZA26BUP55TDCJ4U7I2MSQEAJDPDSZSBKBPWQTD5OQZQSJAGNN2IQB"),
            ("GBOSMFQYKWFDHJWCMCZSMGUMWCZOM4KFMXXS64INDHVCJ2A2JAABCYRR", "SDXDYPDNRMGOF25AWYYKPHFAD3M54IT7LCLG7RWTGR3TS32A4HTUXNOS"),
        ],
    },
    // Test 5: 12 words, all-zero entropy.
    Sep5Case {
        phrase: "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
        passphrase: "",
        keys: [
            ("GB3JDWCQJCWMJ3IILWIGDTQJJC5567PGVEVXSCVPEQOTDN64VJBDQBYX", "SBUV3MRWKNS6AYKZ6E6MOUVF2OYMON3MIUASWL3JLY5E3ISDJFELYBRZ"),
            ("GDVSYYTUAJ3ACHTPQNSTQBDQ4LDHQCMNY4FCEQH5TJUMSSLWQSTG42MV", "SCHDCVCWGAKGIMTORV6K5DYYV3BY4WG3RA4M6MCBGJLHUCWU2MC6DL66"),
            ("GBFPWBTN4AXHPWPTQVQBP4KRZ2YVYYOGRMV2PEYL2OBPPJDP7LECEVHR", "SAPLVTLUXSDLFRDGCCFLPDZMTCEVMP3ZXTM74EBJCVKZKM34LGQPF7K3"),
            ("GCCCOWAKYVFY5M6SYHOW33TSNC7Z5IBRUEU2XQVVT34CIZU7CXZ4OQ4O", "SDQYXOP2EAUZP4YOEQ5BUJIQ3RDSP5XV4ZFI6C5Y3QCD5Y63LWPXT7PW"),
            ("GCQ3J35MKPKJX7JDXRHC5YTXTULFMCBMZ5IC63EDR66QA3LO7264ZL7Q", "SCT7DUHYZD6DRCETT6M73GWKFJI4D56P3SNWNWNJ7ANLJZS6XIFYYXSB"),
            ("GDTA7622ZA5PW7F7JL7NOEFGW62M7GW2GY764EQC2TUJ42YJQE2A3QUL", "SDTWG5AFDI6GRQNLPWOC7IYS7AKOGMI2GX4OXTBTZHHYPMNZ2PX4ONWU"),
            ("GD7A7EACTPTBCYCURD43IEZXGIBCEXNBHN3OFWV2FOX67XKUIGRCTBNU", "SDJMWY4KFRS4PTA5WBFVCPS2GKYLXOMCLQSBNEIBG7KRGHNQOM25KMCP"),
            ("GAF4AGPVLQXFKEWQV3DZU5YEFU6YP7XJHAEEQH4G3R664MSF77FLLRK3", "SDOJH5JRCNGT57QTPTJEQGBEBZJPXE7XUDYDB24VTOPP7PH3ALKHAHFG"),
            ("GABTYCZJMCP55SS6I46SR76IHETZDLG4L37MLZRZKQDGBLS5RMP65TSX", "SC6N6GYQ2VA4T7CUP2BWGBRT2P6L2HQSZIUNQRHNDLISF6ND7TW4P4ER"),
            ("GAKFARYSPI33KUJE7HYLT47DCX2PFWJ77W3LZMRBPSGPGYPMSDBE7W7X", "SALJ5LPBTXCFML2CQ7ORP7WJNJOZSVBVRQAAODMVHMUF4P4XXFZB7MKY"),
        ],
    },
];

#[test]
fn sep5_published_vectors_indexes_0_to_9() {
    for case in &SEP5_CASES {
        for (index, (public, secret)) in case.keys.iter().enumerate() {
            let seed = seed_from_mnemonic(case.phrase, case.passphrase, index as u32).unwrap();
            let (ours_public, ours_secret) = strkeys(&seed);
            assert_eq!(ours_public, *public, "{} index {index}", case.phrase);
            assert_eq!(ours_secret, *secret, "{} index {index}", case.phrase);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Random mnemonics, derived by the Python SDK at test time.

const SDK_DERIVE: &str = r#"
import json, sys
from stellar_sdk import Keypair
out = []
for case in json.load(sys.stdin):
    phrase = case["phrase"]
    if phrase is None:
        phrase = Keypair.generate_mnemonic_phrase(strength=case["strength"])
    keys = [Keypair.from_mnemonic_phrase(phrase, passphrase=case["passphrase"], index=i)
            for i in case["indexes"]]
    out.append({"phrase": phrase,
                "keys": [[k.public_key, k.secret] for k in keys]})
json.dump(out, sys.stdout)
"#;

#[test]
fn random_mnemonics_match_the_python_sdk() {
    let indexes = [0u32, 1, 2, 7, 148, 2_147_483_647];
    let passphrases = [
        "",
        "correct horse",
        "pässwörd ñ ünïcode",
        "Ｆｕｌｌｗｉｄｔｈ ﬁ",
    ];
    let mut cases = Vec::new();
    // Ours generate, the SDK derives.
    for (i, words) in [12usize, 24, 12, 24].into_iter().enumerate() {
        let phrase = generate_mnemonic(words).unwrap();
        cases.push(json!({"phrase": phrase.as_str(), "strength": null,
                          "passphrase": passphrases[i], "indexes": indexes}));
    }
    // The SDK generates (128 to 256 bits: 12 to 24 words) and derives.
    for (i, strength) in [128, 160, 192, 224, 256, 256].into_iter().enumerate() {
        cases.push(json!({"phrase": null, "strength": strength,
                          "passphrase": passphrases[i % passphrases.len()], "indexes": indexes}));
    }
    let sdk = py(SDK_DERIVE, &Value::Array(cases.clone()));
    let sdk = sdk.as_array().unwrap();
    assert_eq!(sdk.len(), cases.len());
    for (case, answer) in cases.iter().zip(sdk) {
        let phrase = answer["phrase"].as_str().unwrap();
        let passphrase = case["passphrase"].as_str().unwrap();
        let keys = answer["keys"].as_array().unwrap();
        assert_eq!(keys.len(), indexes.len());
        for (index, expected) in indexes.iter().zip(keys) {
            let seed = seed_from_mnemonic(phrase, passphrase, *index).unwrap();
            let (public, secret) = strkeys(&seed);
            assert_eq!(
                public,
                expected[0].as_str().unwrap(),
                "{phrase} / {passphrase:?} / {index}"
            );
            assert_eq!(
                secret,
                expected[1].as_str().unwrap(),
                "{phrase} / {passphrase:?} / {index}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The keystore format, as docs/keystore.md specifies it, implemented independently in Python
// (hashlib.scrypt, PyNaCl's XChaCha20-Poly1305, the SDK's StrKey/Keypair): files we seal open
// there, and files sealed there open here.

const PY_KEYSTORE: &str = r#"
import hashlib, json, os, sys
from nacl.bindings import (crypto_aead_xchacha20poly1305_ietf_decrypt,
                           crypto_aead_xchacha20poly1305_ietf_encrypt)
from stellar_sdk import Keypair, StrKey

def ad(public_key, log_n, r, p, salt, version=1, policy=b""):
    return (b"stellar-airgap-keystore\x00" + version.to_bytes(4, "big") + public_key
            + bytes([log_n]) + r.to_bytes(4, "big") + p.to_bytes(4, "big")
            + bytes([len(salt)]) + salt + policy)

def kdf(passphrase, salt, log_n, r, p):
    return hashlib.scrypt(passphrase, salt=salt, n=2 ** log_n, r=r, p=p,
                          maxmem=256 * r * 2 ** log_n + (1 << 20), dklen=32)

req = json.load(sys.stdin)
out = {"opened": [], "sealed": []}
for case in req["open"]:
    f = json.loads(case["file"])
    assert f["format"] == "stellar-airgap-keystore" and f["version"] in (1, 2)
    policy = bytes.fromhex(f["policy_sha256"]) if f["version"] == 2 else b""
    assert f["kdf"]["name"] == "scrypt" and f["aead"]["name"] == "xchacha20-poly1305"
    k = f["kdf"]
    salt = bytes.fromhex(k["salt"])
    public_key = StrKey.decode_ed25519_public_key(f["public_key"])
    key = kdf(case["passphrase"].encode(), salt, k["log_n"], k["r"], k["p"])
    seed = crypto_aead_xchacha20poly1305_ietf_decrypt(
        bytes.fromhex(f["aead"]["ciphertext"]),
        ad(public_key, k["log_n"], k["r"], k["p"], salt, f["version"], policy),
        bytes.fromhex(f["aead"]["nonce"]), key)
    kp = Keypair.from_raw_ed25519_seed(seed)
    out["opened"].append({"public_key": kp.public_key, "secret": kp.secret,
                          "policy_sha256": f.get("policy_sha256")})
for case in req["seal"]:
    kp = Keypair.random()
    log_n, r, p = case["log_n"], case["r"], case["p"]
    salt = os.urandom(case["salt_len"])
    nonce = os.urandom(24)
    public_key = kp.raw_public_key()
    key = kdf(case["passphrase"].encode(), salt, log_n, r, p)
    version = 2 if case.get("policy") else 1
    policy = hashlib.sha256(case["policy"].encode()).digest() if version == 2 else b""
    ciphertext = crypto_aead_xchacha20poly1305_ietf_encrypt(
        kp.raw_secret_key(), ad(public_key, log_n, r, p, salt, version, policy), nonce, key)
    f = {"version": version, "format": "stellar-airgap-keystore", "public_key": kp.public_key,
         "aead": {"ciphertext": ciphertext.hex(), "nonce": nonce.hex(), "name": "xchacha20-poly1305"},
         "kdf": {"salt": salt.hex(), "p": p, "r": r, "log_n": log_n, "name": "scrypt"}}
    if version == 2:
        f["policy_sha256"] = policy.hex()
    out["sealed"].append({"file": json.dumps(f, sort_keys=True), "public_key": kp.public_key,
                          "secret": kp.secret})
json.dump(out, sys.stdout)
"#;

#[test]
fn keystore_interoperates_with_an_independent_python_implementation() {
    use airgap::keys::keystore::{open, seal, seal_bound, KdfParams};

    let passphrase = "correct horse ✓ battery staple";
    let mut open_cases = Vec::new();
    let mut expected = Vec::new();
    for (log_n, r, p) in [(10, 8, 1), (11, 4, 2)] {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).unwrap();
        let file = seal(
            &seed,
            passphrase.as_bytes(),
            KdfParams::new(log_n, r, p).unwrap(),
        )
        .unwrap();
        open_cases.push(json!({"file": file, "passphrase": passphrase}));
        expected.push(strkeys(&seed));
    }
    // Version 2: bound to a policy's SHA-256 (docs/keystore.md).
    let policy_text = airgap::policy::default_text();
    let digest = airgap::policy::digest(policy_text.as_bytes());
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).unwrap();
    let file = seal_bound(
        &seed,
        passphrase.as_bytes(),
        KdfParams::new(10, 8, 1).unwrap(),
        digest,
    )
    .unwrap();
    open_cases.push(json!({"file": file, "passphrase": passphrase}));
    expected.push(strkeys(&seed));
    let seal_cases = json!([
        {"log_n": 10, "r": 8, "p": 1, "salt_len": 32, "passphrase": passphrase},
        {"log_n": 12, "r": 2, "p": 3, "salt_len": 16, "passphrase": passphrase},
        {"log_n": 10, "r": 8, "p": 1, "salt_len": 32, "passphrase": passphrase, "policy": policy_text},
    ]);
    let out = py(
        PY_KEYSTORE,
        &json!({"open": open_cases, "seal": seal_cases}),
    );

    let opened = out["opened"].as_array().unwrap();
    assert_eq!(opened.len(), expected.len());
    for (theirs, (public, secret)) in opened.iter().zip(&expected) {
        assert_eq!(theirs["public_key"].as_str().unwrap(), public);
        assert_eq!(theirs["secret"].as_str().unwrap(), secret);
    }
    assert_eq!(
        opened.last().unwrap()["policy_sha256"].as_str(),
        Some(hex::encode(digest).as_str())
    );

    let sealed = out["sealed"].as_array().unwrap();
    assert_eq!(sealed.len(), 3);
    for theirs in sealed {
        let file = theirs["file"].as_str().unwrap();
        let (seed, info) = open(file.as_bytes(), passphrase.as_bytes()).unwrap();
        let (public, secret) = strkeys(&seed);
        assert_eq!(public, theirs["public_key"].as_str().unwrap());
        assert_eq!(secret, theirs["secret"].as_str().unwrap());
        assert_eq!(info.public_key, public);
        assert!(open(file.as_bytes(), b"not the passphrase").is_err());
    }
    let (_, bound) = open(
        sealed[2]["file"].as_str().unwrap().as_bytes(),
        passphrase.as_bytes(),
    )
    .unwrap();
    assert_eq!(bound.version, 2);
    assert_eq!(bound.policy_sha256, Some(digest));
}
