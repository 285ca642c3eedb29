// 公积金提取资格核验 (housing fund withdrawal eligibility) in AssemblyScript: the same rule as the
// C example `examples/hf_check`, one query, every failing condition in the order's fixed order.
//
// Input:  {"purpose": "rent" | "purchase" | "retirement", "amount_fen": 1..}
// Data:   dataset "housing_fund" (a `subject` dataset: queried with context.subject)
// Output: {"found", "eligible", "max_amount_fen", "reasons": [...]}
import {
  readRequest, parse, query, member, memberStr, memberInt, memberBool, writeOutput, log, fail,
  JsonWriter, QUERY_NOT_FOUND, QUERY_BAD_ARGUMENTS, QUERY_REFUSED,
} from "../assembly/govmarket";

const RENT_LIMIT_FEN: i64 = 450000;
const RENT_MIN_MONTHS: i64 = 3;
const PURCHASE_MIN_MONTHS: i64 = 6;

const request = parse(readRequest());
if (request === null) fail("request is not JSON");
const input = member(request, "input");
const purpose = memberStr(input, "purpose");
const amount = memberInt(input, "amount_fen");
const subject = memberStr(member(request, "context"), "subject");

const w = new JsonWriter(4096);
const answer = query("housing_fund", subject);
const record = answer.record;
if (record === null) {
  const code = answer.code;
  if (code != QUERY_NOT_FOUND && code != QUERY_BAD_ARGUMENTS && code != QUERY_REFUSED) {
    fail("gov.query failed with code " + code.toString());
  }
  log("no housing fund account (code " + code.toString() + ")");
  w.object()
    .key("found").bool(false)
    .key("eligible").bool(false)
    .key("max_amount_fen").int(0)
    .key("reasons").array().string("not_found").end()
    .end();
} else {
  const status = memberStr(record, "account_status");
  const balance = memberInt(record, "balance_fen");
  const continuous = memberInt(record, "continuous_months");
  const hasLoan = memberBool(record, "has_loan");
  const retired = memberBool(record, "retired");

  const reasons: string[] = [];
  if (status == "frozen") reasons.push("account_frozen");
  let limit: i64;
  if (purpose == "rent") {
    if (status == "sealed") reasons.push("account_not_normal");
    if (continuous < RENT_MIN_MONTHS) reasons.push("insufficient_contribution");
    if (hasLoan) reasons.push("has_loan");
    limit = balance < RENT_LIMIT_FEN ? balance : RENT_LIMIT_FEN;
  } else if (purpose == "purchase") {
    if (continuous < PURCHASE_MIN_MONTHS) reasons.push("insufficient_contribution");
    limit = balance;
  } else {
    if (!retired) reasons.push("not_retired");
    limit = balance;
  }
  const maxAmount: i64 = reasons.length == 0 && limit > 0 ? limit : 0;
  if (reasons.length == 0 && amount > maxAmount) reasons.push("amount_exceeds_limit");

  w.object()
    .key("found").bool(true)
    .key("eligible").bool(reasons.length == 0)
    .key("max_amount_fen").int(maxAmount)
    .key("reasons").array();
  for (let i = 0; i < reasons.length; i++) w.string(reasons[i]);
  w.end().end();
  log("purpose " + purpose + ": " + reasons.length.toString() + " reason(s)");
}
const out = w.finish();
if (out === null) fail("the answer does not fit");
writeOutput(out!);
