//! Reading txrep text back into the envelope it describes, field by field.

use super::lex::{malformed, pad, parse_decimal, q, unescape_code, Fields};
use super::{
    body_field, op_type_name, signer_key_kind, Result, TxrepError, FALSE, MAX_EXTRA_SIGNERS,
    MAX_OPERATIONS, MAX_SIGNATURES, TRUE,
};
use stellar_xdr::{
    AllowTrustOp, Asset, AssetCode, AssetCode12, AssetCode4, BumpSequenceOp, ChangeTrustAsset,
    ChangeTrustOp, ClawbackOp, CreateAccountOp, DataValue, DecoratedSignature, Duration,
    FeeBumpTransaction, FeeBumpTransactionEnvelope, FeeBumpTransactionExt,
    FeeBumpTransactionInnerTx, Hash, LedgerBounds, LiquidityPoolConstantProductParameters,
    LiquidityPoolParameters, ManageDataOp, Memo, MuxedAccount, Operation, OperationBody,
    OperationType, PaymentOp, Preconditions, PreconditionsV2, SequenceNumber, SetOptionsOp,
    SetTrustLineFlagsOp, Signature, SignatureHint, Signer, String32, String64, TimeBounds,
    TimePoint, Transaction, TransactionEnvelope, TransactionExt, TransactionV0,
    TransactionV0Envelope, TransactionV0Ext, TransactionV1Envelope,
};

/// Reads txrep text back into the envelope it describes. Errors name the line and the reason.
pub fn from_txrep(text: &str) -> Result<TransactionEnvelope> {
    let m = Fields::parse(text)?;
    let (ty, ty_line) = m.bare("type")?;
    let env = match ty {
        "ENVELOPE_TYPE_TX" => {
            let tx = read_tx(&m, "tx.")?;
            let signatures = read_signatures(&m, "")?;
            TransactionEnvelope::Tx(TransactionV1Envelope { tx, signatures })
        }
        "ENVELOPE_TYPE_TX_V0" => {
            let tx = read_tx(&m, "tx.")?;
            let signatures = read_signatures(&m, "")?;
            TransactionEnvelope::TxV0(TransactionV0Envelope {
                tx: v1_as_v0(&m, tx)?,
                signatures,
            })
        }
        "ENVELOPE_TYPE_TX_FEE_BUMP" => {
            let fee_source = m.muxed("feeBump.tx.feeSource")?;
            let fee = m.int::<i64>("feeBump.tx.fee")?;
            if let Some((v, line)) = m.optional_bare("feeBump.tx.innerTx.type")? {
                if v != "ENVELOPE_TYPE_TX" {
                    return Err(malformed(
                        line,
                        format!("the inner transaction of a fee bump must be ENVELOPE_TYPE_TX, not {}", q(v)),
                    ));
                }
            }
            let tx = read_tx(&m, "feeBump.tx.innerTx.tx.")?;
            let inner_sigs = read_signatures(&m, "feeBump.tx.innerTx.")?;
            if let Some((v, line)) = m.optional_bare("feeBump.tx.ext.v")? {
                if v != "0" {
                    return Err(malformed(line, format!("`feeBump.tx.ext.v` must be 0, not {}", q(v))));
                }
            }
            let signatures = read_signatures(&m, "feeBump.")?;
            TransactionEnvelope::TxFeeBump(FeeBumpTransactionEnvelope {
                tx: FeeBumpTransaction {
                    fee_source,
                    fee,
                    inner_tx: FeeBumpTransactionInnerTx::Tx(TransactionV1Envelope {
                        tx,
                        signatures: inner_sigs,
                    }),
                    ext: FeeBumpTransactionExt::V0,
                },
                signatures,
            })
        }
        other => {
            return Err(malformed(
                ty_line,
                format!(
                    "{} is not an envelope type; expected ENVELOPE_TYPE_TX, ENVELOPE_TYPE_TX_FEE_BUMP or ENVELOPE_TYPE_TX_V0",
                    q(other)
                ),
            ))
        }
    };
    m.check_all_used()?;
    Ok(env)
}

fn v1_as_v0(m: &Fields, tx: Transaction) -> Result<TransactionV0> {
    let MuxedAccount::Ed25519(source) = tx.source_account else {
        return Err(malformed(
            m.line_of("tx.sourceAccount"),
            "a ENVELOPE_TYPE_TX_V0 source account must be a G… account, not a muxed M… account",
        ));
    };
    let time_bounds = match tx.cond {
        Preconditions::None => None,
        Preconditions::Time(tb) => Some(tb),
        Preconditions::V2(_) => {
            return Err(malformed(
                m.line_of("tx.cond.type"),
                "a ENVELOPE_TYPE_TX_V0 transaction can only have PRECOND_NONE or PRECOND_TIME",
            ))
        }
    };
    Ok(TransactionV0 {
        source_account_ed25519: source,
        fee: tx.fee,
        seq_num: tx.seq_num,
        time_bounds,
        memo: tx.memo,
        operations: tx.operations,
        ext: TransactionV0Ext::V0,
    })
}

fn read_tx(m: &Fields, p: &str) -> Result<Transaction> {
    let source_account = m.muxed(&format!("{p}sourceAccount"))?;
    let fee = m.int::<u32>(&format!("{p}fee"))?;
    let seq_num = SequenceNumber(m.int::<i64>(&format!("{p}seqNum"))?);
    let cond = read_cond(m, &format!("{p}cond."))?;
    let memo = read_memo(m, p)?;
    let len_key = format!("{p}operations.len");
    let n = m.len(&len_key, MAX_OPERATIONS)?;
    let mut ops = Vec::new();
    for i in 0..n {
        ops.push(read_op(m, &format!("{p}operations[{i}]."))?);
    }
    let operations = ops
        .try_into()
        .map_err(|_| malformed(m.line_of(&len_key), "too many operations"))?;
    let ext_key = format!("{p}ext.v");
    if let Some((v, line)) = m.optional_bare(&ext_key)? {
        match v {
            "0" => {}
            "1" => {
                return Err(TxrepError::Unsupported {
                    what: "Soroban transaction data (transaction extension v1)".into(),
                    line: Some(line),
                })
            }
            _ => {
                return Err(malformed(
                    line,
                    format!("`{ext_key}` must be 0, not {}", q(v)),
                ))
            }
        }
    }
    Ok(Transaction {
        source_account,
        fee,
        seq_num,
        cond,
        memo,
        operations,
        ext: TransactionExt::V0,
    })
}

fn read_cond(m: &Fields, p: &str) -> Result<Preconditions> {
    let (ty, line) = m.bare(&format!("{p}type"))?;
    Ok(match ty {
        "PRECOND_NONE" => Preconditions::None,
        "PRECOND_TIME" => Preconditions::Time(read_time_bounds(m, p)?),
        "PRECOND_V2" => {
            let time_bounds = if m.present(&format!("{p}timeBounds"))? {
                Some(read_time_bounds(m, p)?)
            } else {
                None
            };
            let ledger_bounds = if m.present(&format!("{p}ledgerBounds"))? {
                Some(LedgerBounds {
                    min_ledger: m.int(&format!("{p}ledgerBounds.minLedger"))?,
                    max_ledger: m.int(&format!("{p}ledgerBounds.maxLedger"))?,
                })
            } else {
                None
            };
            let min_seq_num = if m.present(&format!("{p}minSeqNum"))? {
                Some(SequenceNumber(m.int(&format!("{p}minSeqNum"))?))
            } else {
                None
            };
            let min_seq_age = Duration(m.int(&format!("{p}minSeqAge"))?);
            let min_seq_ledger_gap = m.int(&format!("{p}minSeqLedgerGap"))?;
            let len_key = format!("{p}extraSigners.len");
            let n = m.len(&len_key, MAX_EXTRA_SIGNERS)?;
            let mut signers = Vec::new();
            for i in 0..n {
                let k = format!("{p}extraSigners[{i}]");
                let (ty, ty_line) = m.bare(&format!("{k}.type"))?;
                let field = match ty {
                    "SIGNER_KEY_TYPE_ED25519" => "ed25519",
                    "SIGNER_KEY_TYPE_PRE_AUTH_TX" => "preAuthTx",
                    "SIGNER_KEY_TYPE_HASH_X" => "hashX",
                    "SIGNER_KEY_TYPE_ED25519_SIGNED_PAYLOAD" => "ed25519SignedPayload",
                    other => {
                        return Err(malformed(
                            ty_line,
                            format!("{} is not a signer key type", q(other)),
                        ))
                    }
                };
                let key_field = format!("{k}.{field}");
                let key = m.signer_key(&key_field)?;
                if signer_key_kind(&key).1 != field {
                    return Err(malformed(
                        m.line_of(&key_field),
                        format!("the key is not of type {ty}"),
                    ));
                }
                signers.push(key);
            }
            let extra_signers = signers
                .try_into()
                .map_err(|_| malformed(m.line_of(&len_key), "too many extra signers"))?;
            Preconditions::V2(PreconditionsV2 {
                time_bounds,
                ledger_bounds,
                min_seq_num,
                min_seq_age,
                min_seq_ledger_gap,
                extra_signers,
            })
        }
        other => {
            return Err(malformed(
                line,
                format!(
                "{} is not a precondition type; expected PRECOND_NONE, PRECOND_TIME or PRECOND_V2",
                q(other)
            ),
            ))
        }
    })
}

fn read_time_bounds(m: &Fields, p: &str) -> Result<TimeBounds> {
    Ok(TimeBounds {
        min_time: TimePoint(m.int(&format!("{p}timeBounds.minTime"))?),
        max_time: TimePoint(m.int(&format!("{p}timeBounds.maxTime"))?),
    })
}

fn read_memo(m: &Fields, p: &str) -> Result<Memo> {
    let (ty, line) = m.bare(&format!("{p}memo.type"))?;
    Ok(match ty {
        "MEMO_NONE" => Memo::None,
        "MEMO_TEXT" => {
            let key = format!("{p}memo.text");
            let bytes = m.string(&key)?;
            Memo::Text(bytes.try_into().map_err(|_| {
                malformed(m.line_of(&key), "a text memo can hold at most 28 bytes")
            })?)
        }
        "MEMO_ID" => Memo::Id(m.int(&format!("{p}memo.id"))?),
        "MEMO_HASH" => Memo::Hash(Hash(m.fixed_opaque(&format!("{p}memo.hash"))?)),
        "MEMO_RETURN" => Memo::Return(Hash(m.fixed_opaque(&format!("{p}memo.retHash"))?)),
        other => {
            return Err(malformed(
                line,
                format!("{} is not a memo type; expected MEMO_NONE, MEMO_TEXT, MEMO_ID, MEMO_HASH or MEMO_RETURN", q(other)),
            ))
        }
    })
}

fn read_signatures(
    m: &Fields,
    p: &str,
) -> Result<stellar_xdr::VecM<DecoratedSignature, { MAX_SIGNATURES as u32 }>> {
    let len_key = format!("{p}signatures.len");
    let n = m.len(&len_key, MAX_SIGNATURES)?;
    let mut sigs = Vec::new();
    for i in 0..n {
        let hint = SignatureHint(m.fixed_opaque(&format!("{p}signatures[{i}].hint"))?);
        let sig_key = format!("{p}signatures[{i}].signature");
        let bytes = m.opaque(&sig_key)?;
        let signature = Signature(bytes.try_into().map_err(|_| {
            malformed(m.line_of(&sig_key), "a signature can hold at most 64 bytes")
        })?);
        sigs.push(DecoratedSignature { hint, signature });
    }
    sigs.try_into()
        .map_err(|_| malformed(m.line_of(&len_key), "too many signatures"))
}

fn read_op(m: &Fields, p: &str) -> Result<Operation> {
    let source_account = if m.present(&format!("{p}sourceAccount"))? {
        Some(m.muxed(&format!("{p}sourceAccount"))?)
    } else {
        None
    };
    let (name, line) = m.bare(&format!("{p}body.type"))?;
    let bf = body_field(name);
    let b = |field: &str| format!("{p}body.{bf}.{field}");
    let body = match name {
        "CREATE_ACCOUNT" => OperationBody::CreateAccount(CreateAccountOp {
            destination: m.account_id(&b("destination"))?,
            starting_balance: m.int(&b("startingBalance"))?,
        }),
        "PAYMENT" => OperationBody::Payment(PaymentOp {
            destination: m.muxed(&b("destination"))?,
            asset: m.asset(&b("asset"))?,
            amount: m.int(&b("amount"))?,
        }),
        "SET_OPTIONS" => {
            let opt_u32 = |field: &str| -> Result<Option<u32>> {
                if m.present(&b(field))? {
                    Ok(Some(m.int(&b(field))?))
                } else {
                    Ok(None)
                }
            };
            let inflation_dest = if m.present(&b("inflationDest"))? {
                Some(m.account_id(&b("inflationDest"))?)
            } else {
                None
            };
            let clear_flags = opt_u32("clearFlags")?;
            let set_flags = opt_u32("setFlags")?;
            let master_weight = opt_u32("masterWeight")?;
            let low_threshold = opt_u32("lowThreshold")?;
            let med_threshold = opt_u32("medThreshold")?;
            let high_threshold = opt_u32("highThreshold")?;
            let home_domain = if m.present(&b("homeDomain"))? {
                let key = b("homeDomain");
                let bytes = m.string(&key)?;
                Some(String32(bytes.try_into().map_err(|_| {
                    malformed(m.line_of(&key), "a home domain can hold at most 32 bytes")
                })?))
            } else {
                None
            };
            let signer = if m.present(&b("signer"))? {
                Some(Signer {
                    key: m.signer_key(&b("signer.key"))?,
                    weight: m.int(&b("signer.weight"))?,
                })
            } else {
                None
            };
            OperationBody::SetOptions(SetOptionsOp {
                inflation_dest,
                clear_flags,
                set_flags,
                master_weight,
                low_threshold,
                med_threshold,
                high_threshold,
                home_domain,
                signer,
            })
        }
        "CHANGE_TRUST" => {
            let (lt, lt_line) = m.bare(&b("line.type"))?;
            let line = match lt {
                "ASSET_TYPE_POOL_SHARE" => {
                    let lp = "line.liquidityPool.constantProduct";
                    ChangeTrustAsset::PoolShare(
                        LiquidityPoolParameters::LiquidityPoolConstantProduct(
                            LiquidityPoolConstantProductParameters {
                                asset_a: m.asset(&b(&format!("{lp}.assetA")))?,
                                asset_b: m.asset(&b(&format!("{lp}.assetB")))?,
                                fee: m.int(&b(&format!("{lp}.fee")))?,
                            },
                        ),
                    )
                }
                "ASSET_TYPE_NATIVE"
                | "ASSET_TYPE_CREDIT_ALPHANUM4"
                | "ASSET_TYPE_CREDIT_ALPHANUM12" => {
                    let key = b("line");
                    let (asset, t) = match m.asset(&key)? {
                        Asset::Native => (ChangeTrustAsset::Native, "ASSET_TYPE_NATIVE"),
                        Asset::CreditAlphanum4(a) => (
                            ChangeTrustAsset::CreditAlphanum4(a),
                            "ASSET_TYPE_CREDIT_ALPHANUM4",
                        ),
                        Asset::CreditAlphanum12(a) => (
                            ChangeTrustAsset::CreditAlphanum12(a),
                            "ASSET_TYPE_CREDIT_ALPHANUM12",
                        ),
                    };
                    if t != lt {
                        return Err(malformed(
                            m.line_of(&key),
                            format!("the asset is of type {t} but `line.type` says {lt}"),
                        ));
                    }
                    asset
                }
                other => {
                    return Err(malformed(
                        lt_line,
                        format!("{} is not an asset type", q(other)),
                    ))
                }
            };
            OperationBody::ChangeTrust(ChangeTrustOp {
                line,
                limit: m.int(&b("limit"))?,
            })
        }
        "ALLOW_TRUST" => {
            let trustor = m.account_id(&b("trustor"))?;
            let key = b("asset");
            let (code, code_line) = m.bare(&key)?;
            let bytes = unescape_code(code).map_err(|r| malformed(code_line, r))?;
            let asset = match bytes.len() {
                0..=4 => AssetCode::CreditAlphanum4(AssetCode4(pad(&bytes))),
                5..=12 => AssetCode::CreditAlphanum12(AssetCode12(pad(&bytes))),
                _ => {
                    return Err(malformed(
                        code_line,
                        "an asset code can hold at most 12 bytes",
                    ))
                }
            };
            let akey = b("authorize");
            let (auth, auth_line) = m.bare(&akey)?;
            let authorize = match auth {
                TRUE => 1,
                FALSE => 0,
                n => parse_decimal::<u32>(n).ok_or_else(|| {
                    malformed(
                        auth_line,
                        format!("{} is not valid for `{akey}`; expected true, false or an unsigned 32-bit integer", q(n)),
                    )
                })?,
            };
            OperationBody::AllowTrust(AllowTrustOp {
                trustor,
                asset,
                authorize,
            })
        }
        "ACCOUNT_MERGE" => OperationBody::AccountMerge(m.muxed(&format!("{p}body.destination"))?),
        "MANAGE_DATA" => {
            let key = b("dataName");
            let name_bytes = m.string(&key)?;
            let data_name = String64(name_bytes.try_into().map_err(|_| {
                malformed(m.line_of(&key), "a data name can hold at most 64 bytes")
            })?);
            let data_value = if m.present(&b("dataValue"))? {
                let vkey = b("dataValue");
                let bytes = m.opaque(&vkey)?;
                Some(DataValue(bytes.try_into().map_err(|_| {
                    malformed(m.line_of(&vkey), "a data value can hold at most 64 bytes")
                })?))
            } else {
                None
            };
            OperationBody::ManageData(ManageDataOp {
                data_name,
                data_value,
            })
        }
        "BUMP_SEQUENCE" => OperationBody::BumpSequence(BumpSequenceOp {
            bump_to: SequenceNumber(m.int(&b("bumpTo"))?),
        }),
        "CLAWBACK" => OperationBody::Clawback(ClawbackOp {
            asset: m.asset(&b("asset"))?,
            from: m.muxed(&b("from"))?,
            amount: m.int(&b("amount"))?,
        }),
        "SET_TRUST_LINE_FLAGS" => OperationBody::SetTrustLineFlags(SetTrustLineFlagsOp {
            trustor: m.account_id(&b("trustor"))?,
            asset: m.asset(&b("asset"))?,
            clear_flags: m.int(&b("clearFlags"))?,
            set_flags: m.int(&b("setFlags"))?,
        }),
        other => {
            let known = OperationType::VARIANTS
                .iter()
                .any(|t| op_type_name(*t) == other);
            return Err(if known {
                TxrepError::Unsupported {
                    what: format!("the {other} operation"),
                    line: Some(line),
                }
            } else {
                malformed(line, format!("{} is not an operation type", q(other)))
            });
        }
    };
    Ok(Operation {
        source_account,
        body,
    })
}
