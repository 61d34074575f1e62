// airlock-sdk/audit: the ledger, its verification, reports and the leak
// scan. The root export keeps verifyLedger.

export {
  Ledger,
  LEDGER_CHANNEL,
  type LedgerOptions,
  type LedgerEventInput,
  type LedgerDeliveryInput,
  type LedgerAppendResult,
  type LedgerListener,
  type LedgerStats,
  type LedgerCheckpointHead,
} from './ledger.js'
export { proveLedgerInclusion, type ProveLedgerInclusionOptions } from './prove-ledger-inclusion.js'
export { proveLedgerConsistency, type ProveLedgerConsistencyOptions } from './prove-ledger-consistency.js'
export { verifyLedgerProof, type VerifyLedgerProofResult } from './verify-ledger-proof.js'
export type { LedgerInclusionProof, LedgerConsistencyProof } from './ledger-proof.js'
export { parseCheckpointNote, ledgerVerifierKey, type LedgerCheckpointBody, type ParsedCheckpointNote } from './checkpoint-note.js'
export { verifyLedger, type VerifyLedgerOptions, type VerifyLedgerResult } from './verify-ledger.js'
export { readLedgerWitness, type LedgerWitness } from './ledger-witness.js'
export type { LedgerAdoption } from './ledger-checkpoint.js'
export { buildLedgerReport, formatReportText, type LedgerReport, type LedgerReportOptions } from './ledger-report.js'
export { mergeLedgerReports, formatFleetReportText, type FleetReport, type FleetLedger } from './fleet-report.js'
export { formatReportHtml, type HtmlReportOptions, type ReportFinding, type ReportScan } from './html-report.js'
export type { LedgerTimeline } from './ledger-timeline.js'
export { scanLedger, LedgerLeakScanner, type LeakFinding, type LedgerScanResult } from './scan-ledger.js'
export { generateLedgerSigningKey, type LedgerSigningKeyPair, type LedgerKeyInput } from './ledger-signing-key.js'
export type { LedgerEntry } from './ledger-entry.js'
