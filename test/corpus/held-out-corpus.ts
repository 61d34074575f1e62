/**
 * The held-out detector corpus: sensitive values and must-not-flag strings
 * the detectors were never tuned on. test/corpus/detector-corpus.ts was
 * assembled by the engineer who wrote the detectors, so its figures may
 * flatter them; this one comes from other public test suites (secretlint's
 * rule snapshots, TruffleHog's detector tests, detect-secrets' plugin tests
 * other than the keyword and Discord ones, Presidio's card, IBAN, IP and
 * e-mail recognizer tests, Sentry Relay's built-in PII rule tests, and
 * gitleaks rules the first corpus did not draw on) and puts some of their
 * values in the places metadata carries them: a JSON log line, a query
 * string, an env dump, a stack trace, YAML, an Authorization header. Each
 * case names its source (repository and path); "context made here" means
 * the value is the source's and the sentence around it is ours.
 *
 * Left out on purpose:
 * - kinds the SDK has no detector for: AWS account ids, Azure tenant and
 *   client ids (UUIDs), IMEIs, UUIDs as PII (Relay's `@uuid`), crypto
 *   wallet addresses, Cloudflare, Databricks, Figma, Grafana, Groq,
 *   HashiCorp Vault, Hugging Face, Linear, Notion, Shopify, Tailscale,
 *   Vercel, 1Password, Clojars and the other vendor-only formats of these
 *   suites; a bare 40-hex "GitHub" token (TruffleHog's v1 detector) and a
 *   dashed-UUID "npm token" without a key name;
 * - must-not-flag cases that contradict the SDK's fail-closed defaults:
 *   private addresses (detect-secrets flags only public IPs; the SDK
 *   redacts every address), `https://username:password@…` style examples
 *   (the SDK redacts URL credentials whatever they look like), Google keys
 *   gitleaks allow-lists because they are published (they are still keys),
 *   OpenAI-shaped `sk-…` strings without the T3BlbkFJ marker, and a
 *   Telegram token after `bot` (it is a token in a Bot API URL);
 * - paths whose separator is U+00A5 (secretlint's `¥Users¥…`), a
 *   Shift-JIS rendering rather than text a Node string holds.
 *
 * Scored by `bench/detectors.ts` (`target held-out …` lines) and held by
 * test/scrub/held-out-corpus.test.ts.
 *
 * @example
 * ```ts
 * import { heldOutCorpus } from './held-out-corpus.js'
 * const { positives, negatives } = heldOutCorpus()
 * ```
 */
import type { NegativeCase, PositiveCase } from './detector-corpus.js'

const TH = 'trufflesecurity/trufflehog pkg/detectors'
const DS = 'Yelp/detect-secrets tests/plugins'
const PRESIDIO = 'microsoft/presidio presidio-analyzer/tests'
const RELAY = 'getsentry/relay relay-pii/src/builtin.rs'
const MADE = 'context made here'

// Extracted verbatim from the sources named per case (secretlint snapshots, gitleaks rule tests).
const EXTRACTED_POSITIVES: readonly (readonly [kind: string, text: string, secret: string, source: string])[] = [
  ["anthropic-key", "claude_api_key = 'sk-ant-api03-z0zjHHXo5uibD2havvfqiZYJe9ENlwI1trcQC4pyRC2N2w6nbpUitUU_iR4kkSszVyUpINaxvCtun3_Mub0O3w-48GXRgAA'", "sk-ant-api03-z0zjHHXo5uibD2havvfqiZYJe9ENlwI1trcQC4pyRC2N2w6nbpUitUU_iR4kkSszVyUpINaxvCtun3_Mub0O3w-48GXRgAA", "secretlint/secretlint packages/@secretlint/secretlint-rule-anthropic/test/snapshots/ng.secret"],
  ["anthropic-key", "sk-ant-api03-z0zjHHXo5k3zD2havvfqiZYJe9ENlwI1trcQC4pyRC2N2w6nbpUitUU_iR4ttSszVyUpINaxvCtun3_Mub0O3w-48GXRgAA", "sk-ant-api03-z0zjHHXo5k3zD2havvfqiZYJe9ENlwI1trcQC4pyRC2N2w6nbpUitUU_iR4ttSszVyUpINaxvCtun3_Mub0O3w-48GXRgAA", "secretlint/secretlint packages/@secretlint/secretlint-rule-anthropic/test/snapshots/ng.secret"],
  ["anthropic-key", "CLAUDE_API_KEY=sk-ant-api03-lwfESWqh_7RvqZ2cCANYw9scfj8Z8tegAppkRnWnclSFEuEPcjuYUITSiziCs2_JRgru7AET1AxD4Fpdic3T-Q-apLfhQAA", "sk-ant-api03-lwfESWqh_7RvqZ2cCANYw9scfj8Z8tegAppkRnWnclSFEuEPcjuYUITSiziCs2_JRgru7AET1AxD4Fpdic3T-Q-apLfhQAA", "secretlint/secretlint packages/@secretlint/secretlint-rule-anthropic/test/snapshots/ng.secret"],
  ["anthropic-key", "ANTHROPIC_API_KEY='sk-ant-api04-pRLEoxKCq2cuUW5bhgMTVPcAuDd6aoydZQYcEXVp_Fu46ri_GkPW5INiuAEYTqOx4w27CnqVik4Ak_wNjjzKAA-Q5uYbwAA'", "sk-ant-api04-pRLEoxKCq2cuUW5bhgMTVPcAuDd6aoydZQYcEXVp_Fu46ri_GkPW5INiuAEYTqOx4w27CnqVik4Ak_wNjjzKAA-Q5uYbwAA", "secretlint/secretlint packages/@secretlint/secretlint-rule-anthropic/test/snapshots/ng.secret"],
  ["openai-key", "sk-sUeBP9asw6GiYHXqtg70T3BlbkFJJuLwJFco90bOpU0Ntest", "sk-sUeBP9asw6GiYHXqtg70T3BlbkFJJuLwJFco90bOpU0Ntest", "secretlint/secretlint packages/@secretlint/secretlint-rule-openai/test/snapshots/ng.secret"],
  ["openai-key", "sk-proj-f5-UKZNwZTgzRb8ZucIrNqTs9oT6D1DMRv_0Zq3WY7G1J1O-wPsXwgv6WFxEn8XrZu2vvosfG7T3BlbkFJBYX7TPseHaYE6r3ljpCBurd6U6qpJeRk8UqQ1ORj5DFHReHaF6mstbOCirkkl9vsHWLw23test", "sk-proj-f5-UKZNwZTgzRb8ZucIrNqTs9oT6D1DMRv_0Zq3WY7G1J1O-wPsXwgv6WFxEn8XrZu2vvosfG7T3BlbkFJBYX7TPseHaYE6r3ljpCBurd6U6qpJeRk8UqQ1ORj5DFHReHaF6mstbOCirkkl9vsHWLw23test", "secretlint/secretlint packages/@secretlint/secretlint-rule-openai/test/snapshots/ng.secret"],
  ["openai-key", "sk-svcacct-f5-UKZNwZTgzRb8ZucIrNqTs9oT6D1DMRv_0Zq3WY7G1J1O-wPsXwgv6WFxEn8XrZu2vvosfG7T3BlbkFJBYX7TPseHaYE6r3ljpCBurd6U6qpJeRk8UqQ1ORj5DFHReHaF6mstbOCirkkl9vsHWLw23test", "sk-svcacct-f5-UKZNwZTgzRb8ZucIrNqTs9oT6D1DMRv_0Zq3WY7G1J1O-wPsXwgv6WFxEn8XrZu2vvosfG7T3BlbkFJBYX7TPseHaYE6r3ljpCBurd6U6qpJeRk8UqQ1ORj5DFHReHaF6mstbOCirkkl9vsHWLw23test", "secretlint/secretlint packages/@secretlint/secretlint-rule-openai/test/snapshots/ng.secret"],
  ["openai-key", "sk-admin-f5-UKZNwZTgzRb8ZucIrNqTs9oT6D1DMRv_0Zq3WY7G1J1O-wPsXwgv6WFxEn8XrZu2vvosfG7T3BlbkFJBYX7TPseHaYE6r3ljpCBurd6U6qpJeRk8UqQ1ORj5DFHReHaF6mstbOCirkkl9vsHWLw23test", "sk-admin-f5-UKZNwZTgzRb8ZucIrNqTs9oT6D1DMRv_0Zq3WY7G1J1O-wPsXwgv6WFxEn8XrZu2vvosfG7T3BlbkFJBYX7TPseHaYE6r3ljpCBurd6U6qpJeRk8UqQ1ORj5DFHReHaF6mstbOCirkkl9vsHWLw23test", "secretlint/secretlint packages/@secretlint/secretlint-rule-openai/test/snapshots/ng.secret"],
  ["github-token", "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", "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", "secretlint/secretlint packages/@secretlint/secretlint-rule-github/test/snapshots/ng.apikey"],
  ["github-token", "ghs_12345_eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3NDU1NjgwMDAsImV4cCI6MTc0NTU2ODM2MCwiaXNzIjoiMTIzNDUiLCJzdWIiOiJnaXRodWJ8MTIzNDUifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "ghs_12345_eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3NDU1NjgwMDAsImV4cCI6MTc0NTU2ODM2MCwiaXNzIjoiMTIzNDUiLCJzdWIiOiJnaXRodWJ8MTIzNDUifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "secretlint/secretlint packages/@secretlint/secretlint-rule-github/test/snapshots/ng.app_installation_token"],
  ["github-token", "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", "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", "secretlint/secretlint packages/@secretlint/secretlint-rule-github/test/snapshots/ng.fine_grained_pat"],
  ["gitlab-token", "glpat-aBcDeFgHiJkLmNoPqRsT", "glpat-aBcDeFgHiJkLmNoPqRsT", "secretlint/secretlint packages/@secretlint/secretlint-rule-gitlab/test/snapshots/ng.personal_access_token"],
  ["npm-token", "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", "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", "secretlint/secretlint packages/@secretlint/secretlint-rule-npm/test/snapshots/NPM_ACCESS_TOKEN"],
  ["slack-webhook", "https://hooks.slack.com/services/TXXXXX/BXXXXX/XXXXXXXXXX", "https://hooks.slack.com/services/TXXXXX/BXXXXX/XXXXXXXXXX", "secretlint/secretlint packages/@secretlint/secretlint-rule-slack/test/snapshots/ng.IncomingWebhook"],
  ["slack-webhook", "Treat https://hooks.slack.com/services/T11111AA/BAAAA111A/qKirRWalryBGqKirRWalryBG as secret.", "https://hooks.slack.com/services/T11111AA/BAAAA111A/qKirRWalryBGqKirRWalryBG", "secretlint/secretlint packages/@secretlint/secretlint-rule-slack/test/snapshots/ng.IncomingWebhook"],
  ["slack-token", "bot-token=xoxb-23984754863-2348975623000-AAAAANzjawSSE9krECohd", "xoxb-23984754863-2348975623000-AAAAANzjawSSE9krECohd", "secretlint/secretlint packages/@secretlint/secretlint-rule-slack/test/snapshots/ng.bot-token"],
  ["slack-token", "xoxa-23984754863-2348975623111", "xoxa-23984754863-2348975623111", "secretlint/secretlint packages/@secretlint/secretlint-rule-slack/test/snapshots/ng.found-slack-token"],
  ["slack-token", "token=xoxb-23984754863-2348975623112", "xoxb-23984754863-2348975623112", "secretlint/secretlint packages/@secretlint/secretlint-rule-slack/test/snapshots/ng.found-slack-token"],
  ["slack-token", "token:xoxo-23984754863-2348975623113", "xoxo-23984754863-2348975623113", "secretlint/secretlint packages/@secretlint/secretlint-rule-slack/test/snapshots/ng.found-slack-token"],
  ["slack-token", "token=\"xoxa-23984754863-2348975623114\"", "xoxa-23984754863-2348975623114", "secretlint/secretlint packages/@secretlint/secretlint-rule-slack/test/snapshots/ng.found-slack-token"],
  ["slack-token", "user-token=\"xoxp-23984754863-2348975623000-2348973623000-cbbd37080273x3ef2577a1a365334\"", "xoxp-23984754863-2348975623000-2348973623000-cbbd37080273x3ef2577a1a365334", "secretlint/secretlint packages/@secretlint/secretlint-rule-slack/test/snapshots/ng.user-token"],
  ["slack-token", "xapp-1-AA2JWS7BEDD-1234576618999-1234010643963577ab7449ef8014ade5482143da98cb46bb85355c04281234 is app tokens", "xapp-1-AA2JWS7BEDD-1234576618999-1234010643963577ab7449ef8014ade5482143da98cb46bb85355c04281234", "secretlint/secretlint packages/@secretlint/secretlint-rule-slack/test/snapshots/ng.xapp-token"],
  ["stripe-key", "STRIPE_SECRET_KEY=sk_live_AAAAAAAAAAAAAAAAAAAAAAAA", "sk_live_AAAAAAAAAAAAAAAAAAAAAAAA", "secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ng.secret"],
  ["stripe-key", "sk_test_BBBBBBBBBBBBBBBBBBBBBBBB", "sk_test_BBBBBBBBBBBBBBBBBBBBBBBB", "secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ng.secret"],
  ["stripe-key", "rk_live_CCCCCCCCCCCCCCCCCCCCCCCC", "rk_live_CCCCCCCCCCCCCCCCCCCCCCCC", "secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ng.secret"],
  ["stripe-key", "rk_test_DDDDDDDDDDDDDDDDDDDDDDDD", "rk_test_DDDDDDDDDDDDDDDDDDDDDDDD", "secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ng.secret"],
  ["sendgrid-key", "oops SG.APhb3zgjtx3hajdas1TjBB.H7Sgbba3afgKSDyB442aDK0kpGO3SD332313-L5528K", "SG.APhb3zgjtx3hajdas1TjBB.H7Sgbba3afgKSDyB442aDK0kpGO3SD332313-L5528K", "secretlint/secretlint packages/@secretlint/secretlint-rule-sendgrid/test/snapshots/ng.apikey"],
  ["sendgrid-key", "SG.APhb3zgjtx3hajdas1TjBB.H7Sgbba3afgKSDyB442aDK0kpGO3SD332313_L5528e", "SG.APhb3zgjtx3hajdas1TjBB.H7Sgbba3afgKSDyB442aDK0kpGO3SD332313_L5528e", "secretlint/secretlint packages/@secretlint/secretlint-rule-sendgrid/test/snapshots/ng.apikey"],
  ["sendgrid-key", "SG.APhb3zgjtx3hajdas1TjBB.H7Sgbba3afgKSDyB442aDK0kpGO3SD332313L5528Ke", "SG.APhb3zgjtx3hajdas1TjBB.H7Sgbba3afgKSDyB442aDK0kpGO3SD332313L5528Ke", "secretlint/secretlint packages/@secretlint/secretlint-rule-sendgrid/test/snapshots/ng.apikey"],
  ["pem-private-key", "-----BEGIN EC PRIVATE KEY-----\nMIGlAgEBBDEA1yi+kzpV+5nUnRGzTjPPAPoMQlFu2WexPjZ4/uE97iD9024nWmdZ\nSnji3oKRvtzloAcGBSuBBAAioWQDYgAESWdneJAuA/AVVK9Q89Vn1/EwI6kjchbJ\nTzLZ4TjcEXLCv8639cGQj8l0u1mkP8XgIiRn7Is5sW8BJhFCbsxhfiwnEdaqAvat\nSGUztmCPfGmumez/3NvRIQTPGhA0SgLb\n-----END EC PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----\nMIGlAgEBBDEA1yi+kzpV+5nUnRGzTjPPAPoMQlFu2WexPjZ4/uE97iD9024nWmdZ\nSnji3oKRvtzloAcGBSuBBAAioWQDYgAESWdneJAuA/AVVK9Q89Vn1/EwI6kjchbJ\nTzLZ4TjcEXLCv8639cGQj8l0u1mkP8XgIiRn7Is5sW8BJhFCbsxhfiwnEdaqAvat\nSGUztmCPfGmumez/3NvRIQTPGhA0SgLb\n-----END EC PRIVATE KEY-----", "secretlint/secretlint packages/@secretlint/secretlint-rule-privatekey/test/snapshots/ECDSA"],
  ["pem-private-key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAaAAAABNlY2RzYS\n1zaGEyLW5pc3RwMjU2AAAACG5pc3RwMjU2AAAAQQR5e/t7H9CI3aR7QIw8gwO9L/nlnY8i\nhiAIluGc8amA+mJtyZx9EX4pVgp37yKoIPzWA5AIaG+0jaXUu0NJTarLAAAAsJwk9LmcJP\nS5AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHl7+3sf0IjdpHtA\njDyDA70v+eWdjyKGIAiW4ZzxqYD6Ym3JnH0RfilWCnfvIqgg/NYDkAhob7SNpdS7Q0lNqs\nsAAAAgVYqGP29bZLo1K56VK6V7OuVQISfQlD6qHCrEnFOXDacAAAAYYXp1QEFaLU1hY0Jv\nb2stUHJvLmxvY2Fs\n-----END OPENSSH PRIVATE KEY-----", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAaAAAABNlY2RzYS\n1zaGEyLW5pc3RwMjU2AAAACG5pc3RwMjU2AAAAQQR5e/t7H9CI3aR7QIw8gwO9L/nlnY8i\nhiAIluGc8amA+mJtyZx9EX4pVgp37yKoIPzWA5AIaG+0jaXUu0NJTarLAAAAsJwk9LmcJP\nS5AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHl7+3sf0IjdpHtA\njDyDA70v+eWdjyKGIAiW4ZzxqYD6Ym3JnH0RfilWCnfvIqgg/NYDkAhob7SNpdS7Q0lNqs\nsAAAAgVYqGP29bZLo1K56VK6V7OuVQISfQlD6qHCrEnFOXDacAAAAYYXp1QEFaLU1hY0Jv\nb2stUHJvLmxvY2Fs\n-----END OPENSSH PRIVATE KEY-----", "secretlint/secretlint packages/@secretlint/secretlint-rule-privatekey/test/snapshots/ecdsa-256"],
  ["pem-private-key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACAxSChbEXO6DKOLpzlLEaypbXSwfRqlS8UnaSHWR8HaIgAAAKDFNoOuxTaD\nrgAAAAtzc2gtZWQyNTUxOQAAACAxSChbEXO6DKOLpzlLEaypbXSwfRqlS8UnaSHWR8HaIg\nAAAED60CTqztyUP+21tY2Y9nxeowVJMhYVkr/DK8x6i5mPTTFIKFsRc7oMo4unOUsRrKlt\ndLB9GqVLxSdpIdZHwdoiAAAAGGF6dUBBWi1NYWNCb29rLVByby5sb2NhbAECAwQF\n-----END OPENSSH PRIVATE KEY-----", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACAxSChbEXO6DKOLpzlLEaypbXSwfRqlS8UnaSHWR8HaIgAAAKDFNoOuxTaD\nrgAAAAtzc2gtZWQyNTUxOQAAACAxSChbEXO6DKOLpzlLEaypbXSwfRqlS8UnaSHWR8HaIg\nAAAED60CTqztyUP+21tY2Y9nxeowVJMhYVkr/DK8x6i5mPTTFIKFsRc7oMo4unOUsRrKlt\ndLB9GqVLxSdpIdZHwdoiAAAAGGF6dUBBWi1NYWNCb29rLVByby5sb2NhbAECAwQF\n-----END OPENSSH PRIVATE KEY-----", "secretlint/secretlint packages/@secretlint/secretlint-rule-privatekey/test/snapshots/ed25519-256"],
  ["pem-private-key", "  \"key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDndJt7NaG8T64/\\nqMJ9QyvAY42n1+m0aOk5DAvPgKwaAFOWzxPxp7Y4GAW4rVJh+fNCFiWFoWCLIkVU\\nhyEMZ8ou0/MTV+1pqyQOKgRId/Hn2lUpQNfkSz5DamJYyjn+L4FwelVsMpo/7KX0\\nIIvjtNeYHuQLaWRgKAVy4Nxjcf0JoX7rqbd+5atwaYltRZWDNoH+eA8Jt4YuCrjY\\n4Wq9dt98H5lktX7APAyKY8c4Y2JrYYy1S9ccBYGRq+AlFczfCsrBty5EAJSlkPLr\\n4ISSfdvqr4Kqwn5gfnfouKh4WoNZN78EVFzKgi+4dY6hH7nP/m0+2jaxE4Xm9XYc\\nbOuqYWghAgMBAAECggEARJ4wPj2vHimtFt8MEaCpRtb4+JttAHwdsDjfA4xNCURR\\ng6MOcZTb05Njlol+o+c687unEg++lGDrltycspXOfcV+CZ0GmE4RWVWhgW51u9uh\\nZaKAnoCkC85tK4+AU9f4ksXhrzrtOchJhq9jaXVCeSmnR67OACe9Pcpl6+FuN70l\\nlCaUkTucUv0wBAdDFmgKiHEBcRt4FdxBhQdjEVsGitX6Uo5nUKVu9bYjY4vC+xFp\\nnW/4N7cgWlm0WLZnY4cLQaV1dvntNoFypBjBgM6oJtGqJ9lnaiKRsRAWIf/vjHPa\\n9KO6wTJt8QnO9LtZfn+Xc5/HPteIi/nytqFsbtD1cQKBgQDzaIJKDTeCEBXRe/9c\\ntpZig4QnY5Qh0gKfhxWpyuK2dP5PDo24KqzcMgXOx2oxoLcnTtdQX+ZiwxpJ1+7N\\nnAVGQiqd8AHSm1nV4X1GEg4UmBVYj85oxLAL6hW0U0ADNN4FMTLcyRAtsFr1NwAg\\n1b2WT/zEsb4W6Ot/KI1X4TkyDQKBgQDzbc54Ncdweu+oluHN/2Dgy4p86EHbL9+u\\nu9AMQLm2tpBjzI9lF88mtiQB0+XvH7MR+HqoZBmjXb2FPvOikXrhcnSpJXOkMK5X\\nwxgAEMeScL0RicH8L0Y8MkOEG1Ntd1soBu4574lXU/0jLXTOEP6GR2ErVqsZlz65\\n5lbwgN4NZQKBgQCuoZ1QWZkodDfjGq5EKy9LsIWg6N1/Qjflkjolnkz4kIpf19Yv\\nelaYiD8IcqOqxV6CEhuCK7uTwdxbfFN1KmnSVWhT9bypCBH00TquigeWGOK/rjTt\\nj6eqdKBrxoqXgldVwY14P72eufcYFQS/ifnCHNMBn2/86dEDYum9UfYCBQKBgENm\\nqf4z887fGzCQ5mDFTyuu64FeVa286bBV7FsYKNPAZOZdI28YUpEjaYDgDRBStKBL\\nLpslbDvhnrIgJhFjOqTlrguPhR94Iy7FpAWQn9GaSZ9rhzyuUkIkoLEZZ9YtcB47\\nHUcJXfvCE5sD4Q2VgwPnC66WRrXFPOb4McVDa9m6rnu84qyruuA6k/\\nepIAhq8afu7ys7dgO1D1oBY8RRjk2UK1lfYc6A9s7RorAlqhA86ILVP18JDzU4dk\\nrqM4fBcOEnWfLc9BXHDw4cCCNNFB7ws2zYzv9HTwvUXQVpmIifFG292yHsTGPOC+\\n8qIaVHvh1+1mR9Os0ROiwUQ=\\n-----END PRIVATE KEY-----\\n\",", "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDndJt7NaG8T64/\\nqMJ9QyvAY42n1+m0aOk5DAvPgKwaAFOWzxPxp7Y4GAW4rVJh+fNCFiWFoWCLIkVU\\nhyEMZ8ou0/MTV+1pqyQOKgRId/Hn2lUpQNfkSz5DamJYyjn+L4FwelVsMpo/7KX0\\nIIvjtNeYHuQLaWRgKAVy4Nxjcf0JoX7rqbd+5atwaYltRZWDNoH+eA8Jt4YuCrjY\\n4Wq9dt98H5lktX7APAyKY8c4Y2JrYYy1S9ccBYGRq+AlFczfCsrBty5EAJSlkPLr\\n4ISSfdvqr4Kqwn5gfnfouKh4WoNZN78EVFzKgi+4dY6hH7nP/m0+2jaxE4Xm9XYc\\nbOuqYWghAgMBAAECggEARJ4wPj2vHimtFt8MEaCpRtb4+JttAHwdsDjfA4xNCURR\\ng6MOcZTb05Njlol+o+c687unEg++lGDrltycspXOfcV+CZ0GmE4RWVWhgW51u9uh\\nZaKAnoCkC85tK4+AU9f4ksXhrzrtOchJhq9jaXVCeSmnR67OACe9Pcpl6+FuN70l\\nlCaUkTucUv0wBAdDFmgKiHEBcRt4FdxBhQdjEVsGitX6Uo5nUKVu9bYjY4vC+xFp\\nnW/4N7cgWlm0WLZnY4cLQaV1dvntNoFypBjBgM6oJtGqJ9lnaiKRsRAWIf/vjHPa\\n9KO6wTJt8QnO9LtZfn+Xc5/HPteIi/nytqFsbtD1cQKBgQDzaIJKDTeCEBXRe/9c\\ntpZig4QnY5Qh0gKfhxWpyuK2dP5PDo24KqzcMgXOx2oxoLcnTtdQX+ZiwxpJ1+7N\\nnAVGQiqd8AHSm1nV4X1GEg4UmBVYj85oxLAL6hW0U0ADNN4FMTLcyRAtsFr1NwAg\\n1b2WT/zEsb4W6Ot/KI1X4TkyDQKBgQDzbc54Ncdweu+oluHN/2Dgy4p86EHbL9+u\\nu9AMQLm2tpBjzI9lF88mtiQB0+XvH7MR+HqoZBmjXb2FPvOikXrhcnSpJXOkMK5X\\nwxgAEMeScL0RicH8L0Y8MkOEG1Ntd1soBu4574lXU/0jLXTOEP6GR2ErVqsZlz65\\n5lbwgN4NZQKBgQCuoZ1QWZkodDfjGq5EKy9LsIWg6N1/Qjflkjolnkz4kIpf19Yv\\nelaYiD8IcqOqxV6CEhuCK7uTwdxbfFN1KmnSVWhT9bypCBH00TquigeWGOK/rjTt\\nj6eqdKBrxoqXgldVwY14P72eufcYFQS/ifnCHNMBn2/86dEDYum9UfYCBQKBgENm\\nqf4z887fGzCQ5mDFTyuu64FeVa286bBV7FsYKNPAZOZdI28YUpEjaYDgDRBStKBL\\nLpslbDvhnrIgJhFjOqTlrguPhR94Iy7FpAWQn9GaSZ9rhzyuUkIkoLEZZ9YtcB47\\nHUcJXfvCE5sD4Q2VgwPnC66WRrXFPOb4McVDa9m6rnu84qyruuA6k/\\nepIAhq8afu7ys7dgO1D1oBY8RRjk2UK1lfYc6A9s7RorAlqhA86ILVP18JDzU4dk\\nrqM4fBcOEnWfLc9BXHDw4cCCNNFB7ws2zYzv9HTwvUXQVpmIifFG292yHsTGPOC+\\n8qIaVHvh1+1mR9Os0ROiwUQ=\\n-----END PRIVATE KEY-----", "secretlint/secretlint packages/@secretlint/secretlint-rule-privatekey/test/snapshots/private-key-in-json"],
  ["pem-private-key", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDndJt7NaG8T64/\nqMJ9QyvAY42n1+m0aOk5DAvPgKwaAFOWzxPxp7Y4GAW4rVJh+fNCFiWFoWCLIkVU\nhyEMZ8ou0/MTV+1pqyQOKgRId/Hn2lUpQNfkSz5DamJYyjn+L4FwelVsMpo/7KX0\nIIvjtNeYHuQLaWRgKAVy4Nxjcf0JoX7rqbd+5atwaYltRZWDNoH+eA8Jt4YuCrjY\n4Wq9dt98H5lktX7APAyKY8c4Y2JrYYy1S9ccBYGRq+AlFczfCsrBty5EAJSlkPLr\n4ISSfdvqr4Kqwn5gfnfouKh4WoNZN78EVFzKgi+4dY6hH7nP/m0+2jaxE4Xm9XYc\nbOuqYWghAgMBAAECggEARJ4wPj2vHimtFt8MEaCpRtb4+JttAHwdsDjfA4xNCURR\ng6MOcZTb05Njlol+o+c687unEg++lGDrltycspXOfcV+CZ0GmE4RWVWhgW51u9uh\nZaKAnoCkC85tK4+AU9f4ksXhrzrtOchJhq9jaXVCeSmnR67OACe9Pcpl6+FuN70l\nlCaUkTucUv0wBAdDFmgKiHEBcRt4FdxBhQdjEVsGitX6Uo5nUKVu9bYjY4vC+xFp\nnW/4N7cgWlm0WLZnY4cLQaV1dvntNoFypBjBgM6oJtGqJ9lnaiKRsRAWIf/vjHPa\n9KO6wTJt8QnO9LtZfn+Xc5/HPteIi/nytqFsbtD1cQKBgQDzaIJKDTeCEBXRe/9c\ntpZig4QnY5Qh0gKfhxWpyuK2dP5PDo24KqzcMgXOx2oxoLcnTtdQX+ZiwxpJ1+7N\nnAVGQiqd8AHSm1nV4X1GEg4UmBVYj85oxLAL6hW0U0ADNN4FMTLcyRAtsFr1NwAg\n1b2WT/zEsb4W6Ot/KI1X4TkyDQKBgQDzbc54Ncdweu+oluHN/2Dgy4p86EHbL9+u\nu9AMQLm2tpBjzI9lF88mtiQB0+XvH7MR+HqoZBmjXb2FPvOikXrhcnSpJXOkMK5X\nwxgAEMeScL0RicH8L0Y8MkOEG1Ntd1soBu4574lXU/0jLXTOEP6GR2ErVqsZlz65\n5lbwgN4NZQKBgQCuoZ1QWZkodDfjGq5EKy9LsIWg6N1/Qjflkjolnkz4kIpf19Yv\nelaYiD8IcqOqxV6CEhuCK7uTwdxbfFN1KmnSVWhT9bypCBH00TquigeWGOK/rjTt\nj6eqdKBrxoqXgldVwY14P72eufcYFQS/ifnCHNMBn2/86dEDYum9UfYCBQKBgENm\nqf4z887fGzCQ5mDFTyuu64FeVa286bBV7FsYKNPAZOZdI28YUpEjaYDgDRBStKBL\nLpslbDvhnrIgJhFjOqTlrguPhR94Iy7FpAWQn9GaSZ9rhzyuUkIkoLEZZ9YtcB47\nHUcJXfvCE5sD4Q2VgwPnC66WRrXFPOb4McVDa9m6rnu84qyruuA6k/\nepIAhq8afu7ys7dgO1D1oBY8RRjk2UK1lfYc6A9s7RorAlqhA86ILVP18JDzU4dk\nrqM4fBcOEnWfLc9BXHDw4cCCNNFB7ws2zYzv9HTwvUXQVpmIifFG292yHsTGPOC+\n8qIaVHvh1+1mR9Os0ROiwUQ=\n-----END PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDndJt7NaG8T64/\nqMJ9QyvAY42n1+m0aOk5DAvPgKwaAFOWzxPxp7Y4GAW4rVJh+fNCFiWFoWCLIkVU\nhyEMZ8ou0/MTV+1pqyQOKgRId/Hn2lUpQNfkSz5DamJYyjn+L4FwelVsMpo/7KX0\nIIvjtNeYHuQLaWRgKAVy4Nxjcf0JoX7rqbd+5atwaYltRZWDNoH+eA8Jt4YuCrjY\n4Wq9dt98H5lktX7APAyKY8c4Y2JrYYy1S9ccBYGRq+AlFczfCsrBty5EAJSlkPLr\n4ISSfdvqr4Kqwn5gfnfouKh4WoNZN78EVFzKgi+4dY6hH7nP/m0+2jaxE4Xm9XYc\nbOuqYWghAgMBAAECggEARJ4wPj2vHimtFt8MEaCpRtb4+JttAHwdsDjfA4xNCURR\ng6MOcZTb05Njlol+o+c687unEg++lGDrltycspXOfcV+CZ0GmE4RWVWhgW51u9uh\nZaKAnoCkC85tK4+AU9f4ksXhrzrtOchJhq9jaXVCeSmnR67OACe9Pcpl6+FuN70l\nlCaUkTucUv0wBAdDFmgKiHEBcRt4FdxBhQdjEVsGitX6Uo5nUKVu9bYjY4vC+xFp\nnW/4N7cgWlm0WLZnY4cLQaV1dvntNoFypBjBgM6oJtGqJ9lnaiKRsRAWIf/vjHPa\n9KO6wTJt8QnO9LtZfn+Xc5/HPteIi/nytqFsbtD1cQKBgQDzaIJKDTeCEBXRe/9c\ntpZig4QnY5Qh0gKfhxWpyuK2dP5PDo24KqzcMgXOx2oxoLcnTtdQX+ZiwxpJ1+7N\nnAVGQiqd8AHSm1nV4X1GEg4UmBVYj85oxLAL6hW0U0ADNN4FMTLcyRAtsFr1NwAg\n1b2WT/zEsb4W6Ot/KI1X4TkyDQKBgQDzbc54Ncdweu+oluHN/2Dgy4p86EHbL9+u\nu9AMQLm2tpBjzI9lF88mtiQB0+XvH7MR+HqoZBmjXb2FPvOikXrhcnSpJXOkMK5X\nwxgAEMeScL0RicH8L0Y8MkOEG1Ntd1soBu4574lXU/0jLXTOEP6GR2ErVqsZlz65\n5lbwgN4NZQKBgQCuoZ1QWZkodDfjGq5EKy9LsIWg6N1/Qjflkjolnkz4kIpf19Yv\nelaYiD8IcqOqxV6CEhuCK7uTwdxbfFN1KmnSVWhT9bypCBH00TquigeWGOK/rjTt\nj6eqdKBrxoqXgldVwY14P72eufcYFQS/ifnCHNMBn2/86dEDYum9UfYCBQKBgENm\nqf4z887fGzCQ5mDFTyuu64FeVa286bBV7FsYKNPAZOZdI28YUpEjaYDgDRBStKBL\nLpslbDvhnrIgJhFjOqTlrguPhR94Iy7FpAWQn9GaSZ9rhzyuUkIkoLEZZ9YtcB47\nHUcJXfvCE5sD4Q2VgwPnC66WRrXFPOb4McVDa9m6rnu84qyruuA6k/\nepIAhq8afu7ys7dgO1D1oBY8RRjk2UK1lfYc6A9s7RorAlqhA86ILVP18JDzU4dk\nrqM4fBcOEnWfLc9BXHDw4cCCNNFB7ws2zYzv9HTwvUXQVpmIifFG292yHsTGPOC+\n8qIaVHvh1+1mR9Os0ROiwUQ=\n-----END PRIVATE KEY-----", "secretlint/secretlint packages/@secretlint/secretlint-rule-privatekey/test/snapshots/private-key-pem"],
  ["pem-private-key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAACFwAAAAdzc2gtcn\nNhAAAAAwEAAQAAAgEA37a2FGDEoR1AOVCNJ/TThnonYFWJyC64XAN0XHZJTWNhcCq+fa9w\n/a98SmVN3fpC4YvSJ4C5AHBaLQ0bEoi4DG97K7Dcg4l7OVi6FJ/DTLo5j7B1vFz5jN14pp\n2BqWmp5GZlup20IWVCrcm/ZljwU2KaA8Xm9AjpX37udDAqavNCGDr7IX+Pw56f7M6Yax7b\nnc7awn3NSkHhF0kxeX9eua3KpINZ9yZT9AMd0xf5H6qT3xVNZcPCheUH7rk2ZranDLtfhb\nf3zx6knCHcMg6pDlUQDqOmX49Wy5h0kR85GnyVQhRHWoL7A/DdGD0HDvy39dsb0TG/gx8J\nsicQ9fC8YkGy0NfW+yC8mD7dUHUbmBQXWxodJR734SAALuyAgGAXs1NbSswUanXEx3KmxN\nVYAb5gUKil0mI/ZuONOCvYJhCFVA8gItZC0W40O4t0jgdvrSJy+6+cOCqh3Bjc8vx7OCfT\nx/ek8NGgQv7YJJEtHEJYvG/e5H0VQBt14nNfUTuABUS4p1+mq+DZ6qwnd16D9giy9w9YGh\nGj6URUvu1JJDbrOaLuyZjGka/+2jgeVHEV6mctmZ1XwV+tqLtWUfLKyock0DdViVBn1Q6l\nPRZ54s2aWh/v7BDjXYkxhPVgx+yN4IEQcYq6sZdLW6i1Y4zKFvuDhQy//AXEDJ4Fag7y9M\n0AAAdQmJeCXJiXglwAAAAHc3NoLXJzYQAAAgEA37a2FGDEoR1AOVCNJ/TThnonYFWJyC64\nXAN0XHZJTWNhcCq+fa9w/a98SmVN3fpC4YvSJ4C5AHBaLQ0bEoi4DG97K7Dcg4l7OVi6FJ\n/DTLo5j7B1vFz5jN14pp2BqWmp5GZlup20IWVCrcm/ZljwU2KaA8Xm9AjpX37udDAqavNC\nGDr7IX+Pw56f7M6Yax7bnc7awn3NSkHhF0kxeX9eua3KpINZ9yZT9AMd0xf5H6qT3xVNZc\nPCheUH7rk2ZranDLtfhbf3zx6knCHcMg6pDlUQDqOmX49Wy5h0kR85GnyVQhRHWoL7A/Dd\nGD0HDvy39dsb0TG/gx8JsicQ9fC8YkGy0NfW+yC8mD7dUHUbmBQXWxodJR734SAALuyAgG\nAXs1NbSswUanXEx3KmxNVYAb5gUKil0mI/ZuONOCvYJhCFVA8gItZC0W40O4t0jgdvrSJy\n+6+cOCqh3Bjc8vx7OCfTx/ek8NGgQv7YJJEtHEJYvG/e5H0VQBt14nNfUTuABUS4p1+mq+\nDZ6qwnd16D9giy9w9YGhGj6URUvu1JJDbrOaLuyZjGka/+2jgeVHEV6mctmZ1XwV+tqLtW\nUfLKyock0DdViVBn1Q6lPRZ54s2aWh/v7BDjXYkxhPVgx+yN4IEQcYq6sZdLW6i1Y4zKFv\nuDhQy//AXEDJ4Fag7y9M0AAAADAQABAAACAQCAMGD7IkvpiipP7UFFIPvH9dz0TW9q/qJz\nTyNxC/KK3qRpsoR+3nXfV5vfwVayGIIUXZspOZBImRiC8hyOLTtRHNw2N9zTnoa2YIoX4U\nf2gksTc+iy64+vUQSebGhs2/gWwToPieg6rpxbmtwK2HG1Ri28db0WHrkjGEeo2iSkLgm0\neq+GDWMik5VOCz+5OfBb57jgc1eb8k35mt43oW109gnE5OM7RIIcs2B2oikFJSggT0OPSX\nIAaTF3cDek+YqVOBTPOZBM5WEreheDs3TZmpJd4RYncaopdY1tzrdY3wRj3dzZF26gXndC\nOU3/H36F6WxyHZCAoNtccxg75Rr8G6SxY0TziPocczNcfiabRUqkBLtsiq8HP1dI1qEXQ0\nnUamzGLQbAg3F6EAKU8Bzig4n31O3UVmVgXxc9LWtHIJnccLY8drg/cZt0jALFjpgTKrz9\nM7vyKIbACJokgvYI8Fe317FfvlPiBOxSW14Zxa0tK2lK0F1eZCR11Lx23uBnTPLoXZsZCi\nR7WJbcYIg5BcZoNR1YiLCq5ecGx/J13aBWuuuuzzLc72O0f1AnI3GTKlFmuXfodQ8+imNO\nT/OBceeptnhP43UIQPuaqhXcXSij+iRUMXKGR7Dn4XZMQ+qZ/l6gZh/OJ/DApU+CNfbJrU\nmdkMxeRyUtJYrUdsojoQAAAQEAkKSRoGVWkVvZcI30JqGnQz6go1Lpij07z0YG+niWuo+F\n8BRqiEnH3mrTRByp9KDnFqECRf6pmQOVV3BzAcq0KG8POnMuBpkblNsMQsuxaI4xZtlkj/\nJSrZWf4t8UA/OmqAUap8vNzkeS7E2MUh8/Ex5jffBbBplfJuGb67aPuoaF1DPniYP/+iWd\nnnoJ4ULp2coGSDHm2IPOp5aM4Zu9pI9G12gske8/uDP5Yp0zyEy8W0JPUWh2R85q4j+Dr3\nBKPILZZ/qG4gGpDpz0cJpEHhm5Nb/+LvYNFp2sUoyowaRLTnQJ3rBaGNROXbLbMZF9XfUS\nWVWKW4RuPv/uyzut+AAAAQEA/nYSvQCp19p9FFc5ohxlXtvGEXTCxh/oxoPqY8o4yLGWN5\nPFpj+BzNKv1qhOMD9sJylwweg9qjOpAmFwL+VmtRTzIG7X5Yq4r+z7/i7F2v6H0cKAFOIz\nQBdFAY7V6KUh21KaYntmWqwUQIaowhWI1VG0i0EvlU99Hbs4SawN48+lpg9BoxA/2G/LUH\nICXpzUvGfAk0qLqC7ORzMoessA9aOHMldyTT63zdHxJzBkSoixNtsjwf7n9nk1sVR9PS1y\nWnPem/ZPDAKOYIre2I1wp0VhRbaxo6qdUvrBXGfK880ioGQ+0qFIX5GgsLaHAT4PDrjAVc\nBPre7uFu6kaxbq6QAAAQEA4REJ1CRqLlVTHkEhUaZbC4X5bPsiXlPUSPGUrrXtCAd9Dnbk\nFwaL+Wg8GPyYj80DZYPQ4JZK5VAawGr3Z+ES8s3vcEQd5McUUewafcS7TPD3fE2+zv+mK3\nslU3UZczrnpbbxVnbswvBj1DgWmT3B0vn9q5hhis6xk7Kz3LhmImQ7ndsa5VKwvXbr6psk\nvXJDDJXw9f/C0i+mRT/E0t0Ls5mtHSsYXinyEZAlj3L56JR4+fkOAc3waW6Pe3UN7gpaVu\n+DWqoft2ZEO5BvSV2nPZrw8Hjlo09YJfe5GodyD0AAr0rrr/cUGhlsgReCImhtlH0yyx+A\nXOh4hy8+wQoERQAAABZ5b3VyX2VtYWlsQGV4YW1wbGUuY29tAQID\n-----END OPENSSH PRIVATE KEY-----", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAACFwAAAAdzc2gtcn\nNhAAAAAwEAAQAAAgEA37a2FGDEoR1AOVCNJ/TThnonYFWJyC64XAN0XHZJTWNhcCq+fa9w\n/a98SmVN3fpC4YvSJ4C5AHBaLQ0bEoi4DG97K7Dcg4l7OVi6FJ/DTLo5j7B1vFz5jN14pp\n2BqWmp5GZlup20IWVCrcm/ZljwU2KaA8Xm9AjpX37udDAqavNCGDr7IX+Pw56f7M6Yax7b\nnc7awn3NSkHhF0kxeX9eua3KpINZ9yZT9AMd0xf5H6qT3xVNZcPCheUH7rk2ZranDLtfhb\nf3zx6knCHcMg6pDlUQDqOmX49Wy5h0kR85GnyVQhRHWoL7A/DdGD0HDvy39dsb0TG/gx8J\nsicQ9fC8YkGy0NfW+yC8mD7dUHUbmBQXWxodJR734SAALuyAgGAXs1NbSswUanXEx3KmxN\nVYAb5gUKil0mI/ZuONOCvYJhCFVA8gItZC0W40O4t0jgdvrSJy+6+cOCqh3Bjc8vx7OCfT\nx/ek8NGgQv7YJJEtHEJYvG/e5H0VQBt14nNfUTuABUS4p1+mq+DZ6qwnd16D9giy9w9YGh\nGj6URUvu1JJDbrOaLuyZjGka/+2jgeVHEV6mctmZ1XwV+tqLtWUfLKyock0DdViVBn1Q6l\nPRZ54s2aWh/v7BDjXYkxhPVgx+yN4IEQcYq6sZdLW6i1Y4zKFvuDhQy//AXEDJ4Fag7y9M\n0AAAdQmJeCXJiXglwAAAAHc3NoLXJzYQAAAgEA37a2FGDEoR1AOVCNJ/TThnonYFWJyC64\nXAN0XHZJTWNhcCq+fa9w/a98SmVN3fpC4YvSJ4C5AHBaLQ0bEoi4DG97K7Dcg4l7OVi6FJ\n/DTLo5j7B1vFz5jN14pp2BqWmp5GZlup20IWVCrcm/ZljwU2KaA8Xm9AjpX37udDAqavNC\nGDr7IX+Pw56f7M6Yax7bnc7awn3NSkHhF0kxeX9eua3KpINZ9yZT9AMd0xf5H6qT3xVNZc\nPCheUH7rk2ZranDLtfhbf3zx6knCHcMg6pDlUQDqOmX49Wy5h0kR85GnyVQhRHWoL7A/Dd\nGD0HDvy39dsb0TG/gx8JsicQ9fC8YkGy0NfW+yC8mD7dUHUbmBQXWxodJR734SAALuyAgG\nAXs1NbSswUanXEx3KmxNVYAb5gUKil0mI/ZuONOCvYJhCFVA8gItZC0W40O4t0jgdvrSJy\n+6+cOCqh3Bjc8vx7OCfTx/ek8NGgQv7YJJEtHEJYvG/e5H0VQBt14nNfUTuABUS4p1+mq+\nDZ6qwnd16D9giy9w9YGhGj6URUvu1JJDbrOaLuyZjGka/+2jgeVHEV6mctmZ1XwV+tqLtW\nUfLKyock0DdViVBn1Q6lPRZ54s2aWh/v7BDjXYkxhPVgx+yN4IEQcYq6sZdLW6i1Y4zKFv\nuDhQy//AXEDJ4Fag7y9M0AAAADAQABAAACAQCAMGD7IkvpiipP7UFFIPvH9dz0TW9q/qJz\nTyNxC/KK3qRpsoR+3nXfV5vfwVayGIIUXZspOZBImRiC8hyOLTtRHNw2N9zTnoa2YIoX4U\nf2gksTc+iy64+vUQSebGhs2/gWwToPieg6rpxbmtwK2HG1Ri28db0WHrkjGEeo2iSkLgm0\neq+GDWMik5VOCz+5OfBb57jgc1eb8k35mt43oW109gnE5OM7RIIcs2B2oikFJSggT0OPSX\nIAaTF3cDek+YqVOBTPOZBM5WEreheDs3TZmpJd4RYncaopdY1tzrdY3wRj3dzZF26gXndC\nOU3/H36F6WxyHZCAoNtccxg75Rr8G6SxY0TziPocczNcfiabRUqkBLtsiq8HP1dI1qEXQ0\nnUamzGLQbAg3F6EAKU8Bzig4n31O3UVmVgXxc9LWtHIJnccLY8drg/cZt0jALFjpgTKrz9\nM7vyKIbACJokgvYI8Fe317FfvlPiBOxSW14Zxa0tK2lK0F1eZCR11Lx23uBnTPLoXZsZCi\nR7WJbcYIg5BcZoNR1YiLCq5ecGx/J13aBWuuuuzzLc72O0f1AnI3GTKlFmuXfodQ8+imNO\nT/OBceeptnhP43UIQPuaqhXcXSij+iRUMXKGR7Dn4XZMQ+qZ/l6gZh/OJ/DApU+CNfbJrU\nmdkMxeRyUtJYrUdsojoQAAAQEAkKSRoGVWkVvZcI30JqGnQz6go1Lpij07z0YG+niWuo+F\n8BRqiEnH3mrTRByp9KDnFqECRf6pmQOVV3BzAcq0KG8POnMuBpkblNsMQsuxaI4xZtlkj/\nJSrZWf4t8UA/OmqAUap8vNzkeS7E2MUh8/Ex5jffBbBplfJuGb67aPuoaF1DPniYP/+iWd\nnnoJ4ULp2coGSDHm2IPOp5aM4Zu9pI9G12gske8/uDP5Yp0zyEy8W0JPUWh2R85q4j+Dr3\nBKPILZZ/qG4gGpDpz0cJpEHhm5Nb/+LvYNFp2sUoyowaRLTnQJ3rBaGNROXbLbMZF9XfUS\nWVWKW4RuPv/uyzut+AAAAQEA/nYSvQCp19p9FFc5ohxlXtvGEXTCxh/oxoPqY8o4yLGWN5\nPFpj+BzNKv1qhOMD9sJylwweg9qjOpAmFwL+VmtRTzIG7X5Yq4r+z7/i7F2v6H0cKAFOIz\nQBdFAY7V6KUh21KaYntmWqwUQIaowhWI1VG0i0EvlU99Hbs4SawN48+lpg9BoxA/2G/LUH\nICXpzUvGfAk0qLqC7ORzMoessA9aOHMldyTT63zdHxJzBkSoixNtsjwf7n9nk1sVR9PS1y\nWnPem/ZPDAKOYIre2I1wp0VhRbaxo6qdUvrBXGfK880ioGQ+0qFIX5GgsLaHAT4PDrjAVc\nBPre7uFu6kaxbq6QAAAQEA4REJ1CRqLlVTHkEhUaZbC4X5bPsiXlPUSPGUrrXtCAd9Dnbk\nFwaL+Wg8GPyYj80DZYPQ4JZK5VAawGr3Z+ES8s3vcEQd5McUUewafcS7TPD3fE2+zv+mK3\nslU3UZczrnpbbxVnbswvBj1DgWmT3B0vn9q5hhis6xk7Kz3LhmImQ7ndsa5VKwvXbr6psk\nvXJDDJXw9f/C0i+mRT/E0t0Ls5mtHSsYXinyEZAlj3L56JR4+fkOAc3waW6Pe3UN7gpaVu\n+DWqoft2ZEO5BvSV2nPZrw8Hjlo09YJfe5GodyD0AAr0rrr/cUGhlsgReCImhtlH0yyx+A\nXOh4hy8+wQoERQAAABZ5b3VyX2VtYWlsQGV4YW1wbGUuY29tAQID\n-----END OPENSSH PRIVATE KEY-----", "secretlint/secretlint packages/@secretlint/secretlint-rule-privatekey/test/snapshots/rsa-4096"],
  ["pem-private-key", "-----BEGIN RSA PRIVATE KEY-----\nMIICWwIBAAKBgQCYdGaf5uYMsilGHfnx/zxXtihdGFr3hCWwebHGhgEAVn0xlsTd\n1QwoKi+rpI1O6hzyVOuoQtboODsONGRlHbNl6yJ936Yhmr8PiNwpA5qIxZAdmFv2\ntqEllWr0dGPPm3B/2NbjuMpSiJNAcBQa46X++doG5yNMY8NCgTsjBZIBKwIDAQAB\nAoGAN+Pkg5aIm/rsurHeoeMqYhV7srVtE/S0RIA4tkkGMPOELhvRzGmAbXEZzNkk\nnNujBQww4JywYK3MqKZ4b8F1tMG3infs1w8V7INAYY/c8HzfrT3f+MVxijoKV2Fl\nJlUXCclztoZhxAxhCR+WC1Upe1wIrWNwad+JA0Vws/mwrEECQQDxiT/Q0lK+gYaa\n+riFeZmOaqwhlFlYNSK2hCnLz0vbnvnZE5ITQoV+yiy2+BhpMktNFsYNCfb0pdKN\nD87x+jr7AkEAoZWITvqErh1RbMCXd26QXZEfZyrvVZMpYf8BmWFaBXIbrVGme0/Q\nd7amI6B8Vrowyt+qgcUk7rYYaA39jYB7kQJAdaX2sY5gw25v1Dlfe5Q5WYdYBJsv\n0alAGUrS2PVF69nJtRS1SDBUuedcVFsP+N2IlCoNmfhKk+vZXOBgWrkZ1QJAGJlE\nFAntUvhhofW72VG6ppPmPPV7VALARQvmOWxpoPSbJAqPFqyy5tamejv/UdCshuX/\n9huGINUV6BlhJT6PEQJAF/aqQTwZqJdwwJqYEQArSmyOW7UDAlQMmKMofjBbeBvd\nH4PSJT5bvaEhxRj7QCwonoX4ZpV0beTnzloS55Z65g==\n-----END RSA PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----\nMIICWwIBAAKBgQCYdGaf5uYMsilGHfnx/zxXtihdGFr3hCWwebHGhgEAVn0xlsTd\n1QwoKi+rpI1O6hzyVOuoQtboODsONGRlHbNl6yJ936Yhmr8PiNwpA5qIxZAdmFv2\ntqEllWr0dGPPm3B/2NbjuMpSiJNAcBQa46X++doG5yNMY8NCgTsjBZIBKwIDAQAB\nAoGAN+Pkg5aIm/rsurHeoeMqYhV7srVtE/S0RIA4tkkGMPOELhvRzGmAbXEZzNkk\nnNujBQww4JywYK3MqKZ4b8F1tMG3infs1w8V7INAYY/c8HzfrT3f+MVxijoKV2Fl\nJlUXCclztoZhxAxhCR+WC1Upe1wIrWNwad+JA0Vws/mwrEECQQDxiT/Q0lK+gYaa\n+riFeZmOaqwhlFlYNSK2hCnLz0vbnvnZE5ITQoV+yiy2+BhpMktNFsYNCfb0pdKN\nD87x+jr7AkEAoZWITvqErh1RbMCXd26QXZEfZyrvVZMpYf8BmWFaBXIbrVGme0/Q\nd7amI6B8Vrowyt+qgcUk7rYYaA39jYB7kQJAdaX2sY5gw25v1Dlfe5Q5WYdYBJsv\n0alAGUrS2PVF69nJtRS1SDBUuedcVFsP+N2IlCoNmfhKk+vZXOBgWrkZ1QJAGJlE\nFAntUvhhofW72VG6ppPmPPV7VALARQvmOWxpoPSbJAqPFqyy5tamejv/UdCshuX/\n9huGINUV6BlhJT6PEQJAF/aqQTwZqJdwwJqYEQArSmyOW7UDAlQMmKMofjBbeBvd\nH4PSJT5bvaEhxRj7QCwonoX4ZpV0beTnzloS55Z65g==\n-----END RSA PRIVATE KEY-----", "secretlint/secretlint packages/@secretlint/secretlint-rule-privatekey/test/snapshots/rsa"],
  ["url-credentials", "This FTP: ftp://user:pass@example.com includes credential.", "pass", "secretlint/secretlint packages/@secretlint/secretlint-rule-basicauth/test/snapshots/ng.basic-auth-ftp-url"],
  ["url-credentials", "This URL: https://user:pass@example.com includes credential.", "pass", "secretlint/secretlint packages/@secretlint/secretlint-rule-basicauth/test/snapshots/ng.basic-auth-http-url"],
  ["url-credentials", "const API_URL = \"https://user:secret123@api.example.com/endpoint\";", "secret123", "secretlint/secretlint packages/@secretlint/secretlint-rule-basicauth/test/snapshots/ng.basic-auth-https-url"],
  ["url-credentials", "- Ja: このhttps://user:pass@example.comはBasic", "pass", "secretlint/secretlint packages/@secretlint/secretlint-rule-basicauth/test/snapshots/ng.basic-auth-in-markdown"],
  ["url-credentials", "- pathname: https://user:pass@example.com/test", "pass", "secretlint/secretlint packages/@secretlint/secretlint-rule-basicauth/test/snapshots/ng.basic-auth-in-markdown"],
  ["url-credentials", "- markdown [url](https://user:pass@example.com)", "pass", "secretlint/secretlint packages/@secretlint/secretlint-rule-basicauth/test/snapshots/ng.basic-auth-in-markdown"],
  ["url-credentials", "const PROD_API = \"https://apiuser:r3alP4ssw0rd@api.production.com/v2\";", "r3alP4ssw0rd", "secretlint/secretlint packages/@secretlint/secretlint-rule-basicauth/test/snapshots/ng.real-credentials"],
  ["url-credentials", "const SECURE_FTP = \"ftps://deployment:s3cur3K3y2024@files.company.com/uploads\";", "s3cur3K3y2024", "secretlint/secretlint packages/@secretlint/secretlint-rule-basicauth/test/snapshots/ng.real-credentials"],
  ["url-credentials", "const DB_BACKUP = \"https://backup-user:BackupK3y987@backup.example.com\";", "BackupK3y987", "secretlint/secretlint packages/@secretlint/secretlint-rule-basicauth/test/snapshots/ng.real-credentials"],
  ["url-credentials", "const MONGO_URI = \"mongodb://realuser:s3cr3tP4ss@db1.example.net:27017/production\";", "s3cr3tP4ss", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.mongodb"],
  ["url-credentials", "const MONGO_SRV = \"mongodb+srv://appuser:myR3alP@ssw0rd@cluster0.mongodb.net/mydb?retryWrites=true\";", "myR3alP@ssw0rd", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.mongodb"],
  ["url-credentials", "CONECTION_URI=\"mongodb://root:m42ploz2wd@google.com:5434/thegift\"", "m42ploz2wd", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.mongodb"],
  ["url-credentials", "mongodb+srv://testuser:hub24aoeu@gg-is-awesome-xm273.mongodb.net/test?retryWrites=true&w=majority", "hub24aoeu", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.mongodb"],
  ["url-credentials", "mongodb://admin:secretKey456@cluster.mongodb.net:27017/admin", "secretKey456", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.mongodb"],
  ["url-credentials", "mongodb+srv://user:passW0rd123@prod-cluster.mongodb.net/production?retryWrites=true", "passW0rd123", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.mongodb"],
  ["url-credentials", "mongodb://devuser:mySecret789@dev.mongodb.com:27017/dev_db", "mySecret789", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.mongodb"],
  ["url-credentials", "const MYSQL_URI = \"mysql://dbuser:compl3xPwd@mysql.server.com:3306/database\";", "compl3xPwd", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.mysql"],
  ["url-credentials", "const MYSQL_JDBC = \"jdbc:mysql://admin:str0ngP4ss@db.company.com:3306/app_db\";", "str0ngP4ss", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.mysql"],
  ["url-credentials", "CONNECTION_URI=\"mysql://root:m42ploz2wd@google.com:5434/thegift\"", "m42ploz2wd", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.mysql"],
  ["url-credentials", "mysql://testuser:secretKey123@db.example.com:3306/testdb", "secretKey123", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.mysql"],
  ["url-credentials", "mysql://apiuser:passW0rd!@internal.db.com:3306/api", "passW0rd!", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.mysql"],
  ["url-credentials", "mysql://devuser:mySecret2024@localhost:3306/dev_db", "mySecret2024", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.mysql"],
  ["url-credentials", "const PG_URI = \"postgresql://pguser:secur3Pass@postgres.example.com:5432/production_db\";", "secur3Pass", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.postgresql"],
  ["url-credentials", "const POSTGRES_URI = \"postgres://api_user:myC0mpl3xPwd@db.internal.com:5432/api_db\";", "myC0mpl3xPwd", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.postgresql"],
  ["url-credentials", "create_engine('postgresql://postgres:m42ploz2wd@google.com:5432/mydb')", "m42ploz2wd", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.postgresql"],
  ["home-path", "Homedir: /Users/exampleuser", "exampleuser", "secretlint/secretlint packages/@secretlint/secretlint-rule-no-homedir/test/snapshots/ng.homedir"],
  ["home-path", "Partial match: /path/to/Users/exampleuser", "exampleuser", "secretlint/secretlint packages/@secretlint/secretlint-rule-no-homedir/test/snapshots/ng.patial-homedir"],
  ["jwt", "eyJhbGciOieeeiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwic3ViZSI6IjEyMzQ1Njc4OTAiLCJuYW1lZWEiOiJKb2huIERvZSIsInN1ZmV3YWZiIjoiMTIzNDU2Nzg5MCIsIm5hbWVmZWF3ZnciOiJKb2huIERvZSIsIm5hbWVhZmV3ZmEiOiJKb2huIERvZSIsInN1ZndhZndlYWIiOiIxMjM0NTY3ODkwIiwibmFtZWZ3YWYiOiJKb2huIERvZSIsInN1YmZ3YWYiOiIxMjM0NTY3ODkwIiwibmFtZndhZSI6IkpvaG4gRG9lIiwiaWZ3YWZhYXQiOjE1MTYyMzkwMjJ9.a_5icKBDo-8EjUlrfvz2k2k-FYaindQ0DEYNrlsnRG0==", "eyJhbGciOieeeiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwic3ViZSI6IjEyMzQ1Njc4OTAiLCJuYW1lZWEiOiJKb2huIERvZSIsInN1ZmV3YWZiIjoiMTIzNDU2Nzg5MCIsIm5hbWVmZWF3ZnciOiJKb2huIERvZSIsIm5hbWVhZmV3ZmEiOiJKb2huIERvZSIsInN1ZndhZndlYWIiOiIxMjM0NTY3ODkwIiwibmFtZWZ3YWYiOiJKb2huIERvZSIsInN1YmZ3YWYiOiIxMjM0NTY3ODkwIiwibmFtZndhZSI6IkpvaG4gRG9lIiwiaWZ3YWZhYXQiOjE1MTYyMzkwMjJ9.a_5icKBDo-8EjUlrfvz2k2k-FYaindQ0DEYNrlsnRG0", "gitleaks/gitleaks cmd/generate/config/rules/jwt.go"],
  ["jwt", "JWT := eyJhbGciOieeeiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwic3ViZSI6IjEyMzQ1Njc4OTAiLCJuYW1lZWEiOiJKb2huIERvZSIsInN1ZmV3YWZiIjoiMTIzNDU2Nzg5MCIsIm5hbWVmZWF3ZnciOiJKb2huIERvZSIsIm5hbWVhZmV3ZmEiOiJKb2huIERvZSIsInN1ZndhZndlYWIiOiIxMjM0NTY3ODkwIiwibmFtZWZ3YWYiOiJKb2huIERvZSIsInN1YmZ3YWYiOiIxMjM0NTY3ODkwIiwibmFtZndhZSI6IkpvaG4gRG9lIiwiaWZ3YWZhYXQiOjE1MTYyMzkwMjJ9.a_5icKBDo-8EjUlrfvz2k2k-FYaindQ0DEYNrlsnRG0", "eyJhbGciOieeeiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwic3ViZSI6IjEyMzQ1Njc4OTAiLCJuYW1lZWEiOiJKb2huIERvZSIsInN1ZmV3YWZiIjoiMTIzNDU2Nzg5MCIsIm5hbWVmZWF3ZnciOiJKb2huIERvZSIsIm5hbWVhZmV3ZmEiOiJKb2huIERvZSIsInN1ZndhZndlYWIiOiIxMjM0NTY3ODkwIiwibmFtZWZ3YWYiOiJKb2huIERvZSIsInN1YmZ3YWYiOiIxMjM0NTY3ODkwIiwibmFtZndhZSI6IkpvaG4gRG9lIiwiaWZ3YWZhYXQiOjE1MTYyMzkwMjJ9.a_5icKBDo-8EjUlrfvz2k2k-FYaindQ0DEYNrlsnRG0", "gitleaks/gitleaks cmd/generate/config/rules/jwt.go"],
  ["jwt", "\"access_token\": \"eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJhY2Nlc3NLZXkiOiJRMzFDVlMxUFNDSjRPVEsyWVZFTSIsImF0X2hhc2giOiI4amItZFE2OXRtZEVueUZaMUttNWhnIiwiYXVkIjoiZXhhbXBsZS1hcHAiLCJlbWFpbCI6ImFkbWluQGV4YW1wbGUuY29tIiwiZW1haWxfdmVyaWZpZWQiOnRydWUsImV4cCI6IjE1OTQ2MDAxODIiLCJpYXQiOjE1OTQ1ODkzODQsImlzcyI6Imh0dHA6Ly8xMjcuMC4wLjE6NTU1Ni9kZXgiLCJuYW1lIjoiYWRtaW4iLCJzdWIiOiJDaVF3T0dFNE5qZzBZaTFrWWpnNExUUmlOek10T1RCaE9TMHpZMlF4TmpZeFpqVTBOallTQld4dlkyRnMifQ.nrbzIJz99Om7TvJ04jnSTmhvlM7aR9hMM1Aqjp2ONJ1UKYCvegBLrTu6cYR968_OpmnAGJ8vkd7sIjUjtR4zbw\"", "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJhY2Nlc3NLZXkiOiJRMzFDVlMxUFNDSjRPVEsyWVZFTSIsImF0X2hhc2giOiI4amItZFE2OXRtZEVueUZaMUttNWhnIiwiYXVkIjoiZXhhbXBsZS1hcHAiLCJlbWFpbCI6ImFkbWluQGV4YW1wbGUuY29tIiwiZW1haWxfdmVyaWZpZWQiOnRydWUsImV4cCI6IjE1OTQ2MDAxODIiLCJpYXQiOjE1OTQ1ODkzODQsImlzcyI6Imh0dHA6Ly8xMjcuMC4wLjE6NTU1Ni9kZXgiLCJuYW1lIjoiYWRtaW4iLCJzdWIiOiJDaVF3T0dFNE5qZzBZaTFrWWpnNExUUmlOek10T1RCaE9TMHpZMlF4TmpZeFpqVTBOallTQld4dlkyRnMifQ.nrbzIJz99Om7TvJ04jnSTmhvlM7aR9hMM1Aqjp2ONJ1UKYCvegBLrTu6cYR968_OpmnAGJ8vkd7sIjUjtR4zbw", "gitleaks/gitleaks cmd/generate/config/rules/jwt.go"],
  ["jwt", "https://dai2-playlistserver.aws.syncbak.com/cpl/20980038/dai2v5/1.0/7b2264657669636554797065223a387d/master.m3u8?access_token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IkdyYXkyMDE2MDgyOSJ9.eyJtaWQiOiIyMDk4MDAzOCIsImNpZCI6MjE5MDMsInNpZCI6MTU4LCJtZDUiOiIwN2QxMmRjNjAwOTM2MGI0MmY3NjNkNTRiMWIwZjI1NCIsImlhdCI6MTY2MDkxMzU2MCwiZXhwIjoxNjkyNDQ5NTYwLCJpc3MiOiJTeW5jYmFrIChURykifQ.JrWVgwzIn_RcNuWhkzIjr1i4qjXU1v4n0KFrSzoTQvQ", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IkdyYXkyMDE2MDgyOSJ9.eyJtaWQiOiIyMDk4MDAzOCIsImNpZCI6MjE5MDMsInNpZCI6MTU4LCJtZDUiOiIwN2QxMmRjNjAwOTM2MGI0MmY3NjNkNTRiMWIwZjI1NCIsImlhdCI6MTY2MDkxMzU2MCwiZXhwIjoxNjkyNDQ5NTYwLCJpc3MiOiJTeW5jYmFrIChURykifQ.JrWVgwzIn_RcNuWhkzIjr1i4qjXU1v4n0KFrSzoTQvQ", "gitleaks/gitleaks cmd/generate/config/rules/jwt.go"],
  ["pem-private-key", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDAC4AWkdwKYSd8\nKs14IReLcYgADhoXk56ZzXI=\n-----END PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDAC4AWkdwKYSd8\nKs14IReLcYgADhoXk56ZzXI=\n-----END PRIVATE KEY-----", "gitleaks/gitleaks cmd/generate/config/rules/privatekey.go"],
  ["pem-private-key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpQIBAAKCAQEAn6/O8li+SX4m98LLYt/PKSzEmQ++ZBD7Loh9P13f4yQ92EF3\nyxR5MsXFu9PRsrYQA7/4UTPHiC4y2sAVCBg4C2yyBpUEtMQjyCESi6Y=\n-----END RSA PRIVATE KEY-----\n", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpQIBAAKCAQEAn6/O8li+SX4m98LLYt/PKSzEmQ++ZBD7Loh9P13f4yQ92EF3\nyxR5MsXFu9PRsrYQA7/4UTPHiC4y2sAVCBg4C2yyBpUEtMQjyCESi6Y=\n-----END RSA PRIVATE KEY-----", "gitleaks/gitleaks cmd/generate/config/rules/privatekey.go"],
  ["pem-private-key", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQWGBGSVV4YBDAClvRnxezIRy2Yv7SFlzC0iFiRF/O/jePSw+XYhvcrTaqSYTGic\n=8xQN\n-----END PGP PRIVATE KEY BLOCK-----", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQWGBGSVV4YBDAClvRnxezIRy2Yv7SFlzC0iFiRF/O/jePSw+XYhvcrTaqSYTGic\n=8xQN\n-----END PGP PRIVATE KEY BLOCK-----", "gitleaks/gitleaks cmd/generate/config/rules/privatekey.go"],
  ["slack-token", "\"bot_token1\": \"xoxb-781236542736-2364535789652-GkwFDQoHqzXDVsC6GzqYUypD\"", "xoxb-781236542736-2364535789652-GkwFDQoHqzXDVsC6GzqYUypD", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"bot_token2\": \"xoxb-263594206564-2343594206574-FGqddMF8t08v8N7Oq4i57vs1MBS\"", "xoxb-263594206564-2343594206574-FGqddMF8t08v8N7Oq4i57vs1MBS", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"bot_token3\": \"xoxb-4614724432022-5152386766518-O5WzjWGLG0wcCm2WPrjEmnys\"", "xoxb-4614724432022-5152386766518-O5WzjWGLG0wcCm2WPrjEmnys", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"user_token1\": \"xoxp-41684372915-1320496754-45609968301-e708ba56e1517a99f6b5fb07349476ef\"", "xoxp-41684372915-1320496754-45609968301-e708ba56e1517a99f6b5fb07349476ef", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"user_token2\": \"xoxp-283316862324-298911817009-298923149681-44f585044dace54f5701618e97cd1c0b\"", "xoxp-283316862324-298911817009-298923149681-44f585044dace54f5701618e97cd1c0b", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"user_token3\": \"xoxp-11873098179-111402824422-234336993777-b96c9fb3b69f82ebb79d12f280779de1\"", "xoxp-11873098179-111402824422-234336993777-b96c9fb3b69f82ebb79d12f280779de1", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"user_token4\": \"xoxp-254112160503-252950188691-252375361712-6cbf56aada30951a9d310a5f23d032a0\"", "xoxp-254112160503-252950188691-252375361712-6cbf56aada30951a9d310a5f23d032a0", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"user_token5\": \"xoxp-4614724432022-4621207627011-5182682871568-1ddad9823e8528ad0f4944dfa3c6fc6c\"", "xoxp-4614724432022-4621207627011-5182682871568-1ddad9823e8528ad0f4944dfa3c6fc6c", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"url_private\": \"https:\\/\\/files.slack.com\\/files-pri\\/T04MCQMEXQ9-F04MAA1PKE3\\/image.png?t=xoxe-4726837507825-4848681849303-4856614048758-e0b1f3d4cb371f92260edb0d9444d206\"", "xoxe-4726837507825-4848681849303-4856614048758-e0b1f3d4cb371f92260edb0d9444d206", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"token1\": \"xapp-1-A052FGTS2DL-5171572773297-610b6a11f4b7eb819e87b767d80e6575a3634791acb9a9ead051da879eb5b55e\"", "xapp-1-A052FGTS2DL-5171572773297-610b6a11f4b7eb819e87b767d80e6575a3634791acb9a9ead051da879eb5b55e", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"token2\": \"xapp-1-IEMF8IMY1OQ-4037076220459-85c370b433e366de369c4ef5abdf41253519266982439a75af74a3d68d543fb6\"", "xapp-1-IEMF8IMY1OQ-4037076220459-85c370b433e366de369c4ef5abdf41253519266982439a75af74a3d68d543fb6", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"token3\": \"xapp-1-BM3V7LC51DA-1441525068281-86641a2582cd0903402ab523e5bcc53b8253098c31591e529b55b41974d2e82f\"", "xapp-1-BM3V7LC51DA-1441525068281-86641a2582cd0903402ab523e5bcc53b8253098c31591e529b55b41974d2e82f", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"bot_token1\": \"xoxb-263594206564-FGqddMF8t08v8N7Oq4i57vs1\"", "xoxb-263594206564-FGqddMF8t08v8N7Oq4i57vs1", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"bot_token2\": \"xoxb-282029623751-BVtmnS3BQitmjZvjpQL7PSGP\"", "xoxb-282029623751-BVtmnS3BQitmjZvjpQL7PSGP", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"bot_token3\": \"xoxb-47834520726-N3otsrwj8Cf99cs8GhiRZsX1\"", "xoxb-47834520726-N3otsrwj8Cf99cs8GhiRZsX1", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"bot_token4\": \"xoxb-123456789012-Xw937qtWSXJss1lFaKe\"", "xoxb-123456789012-Xw937qtWSXJss1lFaKe", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"bot_token5\": \"xoxb-312554961652-uSmliU84rFhnUSBq9YdKh6lS\"", "xoxb-312554961652-uSmliU84rFhnUSBq9YdKh6lS", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"bot_token6\": \"xoxb-51351043345-Lzwmto5IMVb8UK36MghZYMEi\"", "xoxb-51351043345-Lzwmto5IMVb8UK36MghZYMEi", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"bot_token7\": \"xoxb-130154379991-ogFL0OFP3w6AwdJuK7wLojpK\"", "xoxb-130154379991-ogFL0OFP3w6AwdJuK7wLojpK", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"bot_token8\": \"xoxb-159279836768-FOst5DLfEzmQgkz7cte5qiI\"", "xoxb-159279836768-FOst5DLfEzmQgkz7cte5qiI", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"bot_token9\": \"xoxb-50014434-slacktokenx29U9X1bQ\"", "xoxb-50014434-slacktokenx29U9X1bQ", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["google-api-key", "AIzaSyNHxIf32IQ1a1yjl3ZJIqKZqzLAK1XhDk-", "AIzaSyNHxIf32IQ1a1yjl3ZJIqKZqzLAK1XhDk-", "gitleaks/gitleaks cmd/generate/config/rules/gcp.go"],
  ["secret-assignment", "'access_token': 'eyJ0eXAioiJKV1slS3oASx=='", "eyJ0eXAioiJKV1slS3oASx==", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "\"user_auth\": \"am9obmRvZTpkMDY5NGIxYi1jMTcxLTQ4ODYt+TMyYS0wMmUwOWQ1/mIwNjc=\"", "am9obmRvZTpkMDY5NGIxYi1jMTcxLTQ4ODYt+TMyYS0wMmUwOWQ1/mIwNjc=", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "\"credentials\" : \"0afae57f3ccfd9d7f5767067bc48b30f719e271ba470488056e37ab35d4b6506\"", "0afae57f3ccfd9d7f5767067bc48b30f719e271ba470488056e37ab35d4b6506", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "\"client_secret\" : \"6da89121079f83b2eb6acccf8219ea982c3d79bccc3e9c6a85856480661f8fde\",", "6da89121079f83b2eb6acccf8219ea982c3d79bccc3e9c6a85856480661f8fde", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", " utils.GetEnvOrDefault(\"api_token\", \"dafa7817-e246-48f3-91a7-e87653d587b8\")", "dafa7817-e246-48f3-91a7-e87653d587b8", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "CLOJARS_TOKEN = \"CLOJARS_34bf0e88955ff5a1c328d6a7491acc4f48e865a7b8dd4d70a70749037443\"", "CLOJARS_34bf0e88955ff5a1c328d6a7491acc4f48e865a7b8dd4d70a70749037443", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "genericToken: 'Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB'", "Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
]

const EXTRACTED_NEGATIVES: readonly (readonly [kind: string, text: string, source: string, rule?: string])[] = [
  ["anthropic", "export const EXAMPLE_URL = \"https://api.anthropic.com\";", "secretlint/secretlint packages/@secretlint/secretlint-rule-anthropic/test/snapshots/ok.valid"],
  ["anthropic", "export const EXAMPLE_MODEL = \"claude-3-opus-20240229\";", "secretlint/secretlint packages/@secretlint/secretlint-rule-anthropic/test/snapshots/ok.valid"],
  ["github", "gXX_wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx", "secretlint/secretlint packages/@secretlint/secretlint-rule-github/test/snapshots/ok.valid"],
  ["github", "gXX is not GitHub Token prefix", "secretlint/secretlint packages/@secretlint/secretlint-rule-github/test/snapshots/ok.valid"],
  ["gitlab", "glpat-abc", "secretlint/secretlint packages/@secretlint/secretlint-rule-gitlab/test/snapshots/ok.too_short"],
  ["gitlab", "THIS IS OK", "secretlint/secretlint packages/@secretlint/secretlint-rule-gitlab/test/snapshots/ok.valid"],
  ["slack", "THIS IS OK https: https://api.slack.com/web.", "secretlint/secretlint packages/@secretlint/secretlint-rule-slack/test/snapshots/ok.valid"],
  ["stripe", "pk_live_AAAAAAAAAAAAAAAAAAAAAAAA", "secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ok.valid"],
  ["stripe", "pk_test_BBBBBBBBBBBBBBBBBBBBBBBB", "secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ok.valid"],
  ["stripe", "sk_live_short", "secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ok.valid"],
  ["stripe", "sk_test_abc", "secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ok.valid"],
  ["stripe", "rk_live_x", "secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ok.valid"],
  ["stripe", "rk_test_y", "secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ok.valid"],
  ["stripe", "sk_live_AAAAAAAAAAAAAAAAAAAAAAA", "secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ok.valid"],
  ["stripe", "sk_test_BBBBBBBBBBBBBBBBBBBBBBB", "secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ok.valid"],
  ["stripe", "xsk_live_AAAAAAAAAAAAAAAAAAAAAAAA", "secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ok.valid"],
  ["stripe", "foosk_test_BBBBBBBBBBBBBBBBBBBBBBBB", "secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ok.valid"],
  ["stripe", "SKILLS_inventory", "secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ok.valid"],
  ["stripe", "RKLIST_value", "secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ok.valid"],
  ["stripe", "https://docs.stripe.com/keys", "secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ok.valid"],
  ["sendgrid", "All goood here iste natus error sit voluptatem accusantium doloremque laudantium, totam rem aperiam, eaque ipsa quae ab illo inventore veritatis et q", "secretlint/secretlint packages/@secretlint/secretlint-rule-sendgrid/test/snapshots/ok.valid"],
  ["sendgrid", "uasi architecto beatae viAPhb3zgjtx3hajdas1TjBB.H7Sgbba3afgKSDyB442aDK0kpGO3SD332313-L552", "secretlint/secretlint packages/@secretlint/secretlint-rule-sendgrid/test/snapshots/ok.valid"],
  ["sendgrid", "ae dicta sunt explicabo. Nemo enim ipsam voluptatem quia voluptas sit aspernatur aut odit aut fugit, sed quia consequuntur magni dolores eos qui ratione voluptatem sequi", "secretlint/secretlint packages/@secretlint/secretlint-rule-sendgrid/test/snapshots/ok.valid"],
  ["sendgrid", "G.APhb3zgjtx3hajdas1TjBB.H7Sgbba3afgKSDyB442aDK0kpGO3SD332313-L5528K", "secretlint/secretlint packages/@secretlint/secretlint-rule-sendgrid/test/snapshots/ok.valid"],
  ["sendgrid", "nesciunt. Neque porro q", "secretlint/secretlint packages/@secretlint/secretlint-rule-sendgrid/test/snapshots/ok.valid"],
  ["sendgrid", ".H7Sgbba3afgKSDyB442aDK0kpGO3SD332313-L5528Kuisquam est, qui dolorem ipsum quia dolor sit amet, consectetur, adipisci velit, sed quia non numquam eius modi tempora incidunt ut labore et dolore magnam aliquam quaerat voluptatem. Ut enim ad minima veniam, quis nostrum exercitationem ullam corporis suscipit laboriosam, nisi ut aliquid ex ea commodi conse", "secretlint/secretlint packages/@secretlint/secretlint-rule-sendgrid/test/snapshots/ok.valid"],
  ["sendgrid", "SG.APhb3zgjtx3hajdas1TjBB.", "secretlint/secretlint packages/@secretlint/secretlint-rule-sendgrid/test/snapshots/ok.valid"],
  ["sendgrid", "notSG.APhb3zgjtx3hajdas1TjBB.H7Sgbba3afgKSDyB442aDK0kpGO3SD332313_L55", "secretlint/secretlint packages/@secretlint/secretlint-rule-sendgrid/test/snapshots/ok.valid"],
  ["basicauth", "https://example.com is good", "secretlint/secretlint packages/@secretlint/secretlint-rule-basicauth/test/snapshots/ok.valid-url"],
  ["no-homedir", "/path/to/dir", "secretlint/secretlint packages/@secretlint/secretlint-rule-no-homedir/test/snapshots/ok.valid"],
  ["no-homedir", "It is not path: ~Users~exampleuser", "secretlint/secretlint packages/@secretlint/secretlint-rule-no-homedir/test/snapshots/ok.valid"],
  ["url-credentials", "const API_URL = \"https://${username}:${password}@api.example.com/v1\";", "secretlint/secretlint packages/@secretlint/secretlint-rule-basicauth/test/snapshots/ok.false-positives-prevented"],
  ["url-credentials", "const CONFIG_URL = \"https://{{user}}:{{pass}}@config.example.com\";", "secretlint/secretlint packages/@secretlint/secretlint-rule-basicauth/test/snapshots/ok.false-positives-prevented"],
  ["url-credentials", "const TEMPLATE_URL = \"https://{USER}:{PASS}@template.example.com\";", "secretlint/secretlint packages/@secretlint/secretlint-rule-basicauth/test/snapshots/ok.false-positives-prevented"],
  ["url-credentials", "const DOC_URL = \"https://YOUR_USERNAME:YOUR_PASSWORD@api.service.com\";", "secretlint/secretlint packages/@secretlint/secretlint-rule-basicauth/test/snapshots/ok.false-positives-prevented"],
  ["url-credentials", "const MYSQL_TEMPLATE = \"mysql://user:${PASSWORD}@example.com:3306/db\";", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ok.valid"],
  ["url-credentials", "const PG_TEMPLATE = \"postgresql://{username}:{password}@{{host}}:5432/{database}\";", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ok.valid"],
  ["url-credentials", "const MONGO_NO_AUTH = \"mongodb://localhost:27017/database\";", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ok.valid"],
  ["url-credentials", "const MYSQL_NO_AUTH = \"mysql://db.example.com:3306/app\";", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ok.valid"],
  ["url-credentials", "const PG_NO_AUTH = \"postgresql://db.server.com:5432/production\";", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ok.valid"],
  ["url-credentials", "const CONFIG_EXAMPLE = \"mongodb://YOUR_USERNAME:YOUR_PASSWORD@cluster.mongodb.net/test\";", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ok.valid"],
  ["url-credentials", "postgres=\"postgres://postgres@${POSTGRES_HOST:-localhost}:${POSTGRES_PORT:-5432}/$dbname?sslmode=disable\"", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ok.valid"],
  ["url-credentials", "DB_URL = postgres://$(PGUSER):$(PGPASSWORD)@$(PGHOST)/$(PGDATABASE)", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ok.valid"],
  ["url-credentials", "MYSQL_URL = mysql://$(DB_USER):$(DB_PASS)@$(DB_HOST):$(DB_PORT)/$(DB_NAME)", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ok.valid"],
  ["url-credentials", "MONGO_URI = mongodb://$(MONGO_USER):$(MONGO_PASSWORD)@$(MONGO_HOST):$(MONGO_PORT)/$(MONGO_DB)", "secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ok.valid"],
  ["pem-private-key", "GCP_HARNESS_SA={\"type\":\"service_account\",\"project_id\":\"your-project\",\"private_key_id\":\"...\",\"private_key\":\"-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----\\n\",\"client_email\":\"your-service@your-project.iam.gserviceaccount.com\",\"client_id\":\"...\",\"auth_uri\":\"https://accounts.google.com/o/oauth2/auth\",\"token_uri\":\"https://oauth2.googleapis.com/token\",\"auth_provider_x509_cert_url\":\"https://www.googleapis.com/oauth2/v1/certs\",\"client_x509_cert_url\":\"https://www.googleapis.com/robot/v1/metadata/x509/your-service%40your-project.iam.gserviceaccount.com\"}\n", "secretlint/secretlint packages/@secretlint/secretlint-rule-privatekey/test/snapshots/placeholder-dots"],
  ["pem-private-key", "-----BEGIN PRIVATE KEY-----\n***\n-----END PRIVATE KEY-----\n", "secretlint/secretlint packages/@secretlint/secretlint-rule-privatekey/test/snapshots/placeholder-stars"],
  ["pem-private-key", "-----BEGIN PRIVATE KEY-----\nxxx\n-----END PRIVATE KEY-----\n", "secretlint/secretlint packages/@secretlint/secretlint-rule-privatekey/test/snapshots/placeholder-xxx"],
  ["pem-private-key", "-----BEGIN PRIVATE KEY-----\nanything\n-----END PRIVATE KEY-----", "gitleaks/gitleaks cmd/generate/config/rules/privatekey.go"],
  ["pem-private-key", "-----BEGIN OPENSSH PRIVATE KEY----------END OPENSSH PRIVATE KEY-----", "gitleaks/gitleaks cmd/generate/config/rules/privatekey.go"],
  ["slack-token", "xoxb-xxxxxxxxx-xxxxxxxxxx-xxxxxxxxxxxx", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "xoxb-xxx", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["slack-token", "\"token2\": \"xoxp-XXXXXXXXXX-XXXXXXXXXX-XXXXXXXXXXX-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\"", "gitleaks/gitleaks cmd/generate/config/rules/slack.go", "slack-token"],
  ["slack-token", "\"token4\": \"xoxp-572370529330-573807301142-572331691188-####################\"", "gitleaks/gitleaks cmd/generate/config/rules/slack.go", "slack-token"],
  ["slack-token", "https://docs.google.com/document/d/1W7KCxOxP-1Fy5EyF2lbJGE2WuKmu5v0suYqoHas1jRM", "gitleaks/gitleaks cmd/generate/config/rules/slack.go"],
  ["google-api-key", "GWw4hjABFzZCGiRpmlDyDdo87Jn9BN9THUA47muVRNunLxsa82tMAdvmrhOqNkRKiYMEAFbTJAIzaTesb6Tscfcni8vIpWZqNCXFDFslJtVSvFDq", "gitleaks/gitleaks cmd/generate/config/rules/gcp.go"],
  ["google-api-key", "AIzaTesb6Tscfcni8vIpWZqNCXFDFslJtVSvFDqabcd123", "gitleaks/gitleaks cmd/generate/config/rules/gcp.go"],
  ["google-api-key", "apiKey: \"AIzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", "gitleaks/gitleaks cmd/generate/config/rules/gcp.go", "google-api-key"],
  ["google-api-key", "AIZASYCO2CXRMC9ELSKLHLHRMBSWDEVEDZTLO2O", "gitleaks/gitleaks cmd/generate/config/rules/gcp.go"],
  ["aws-access-key-id", "aws_access_key: AKIAIOSFODNN7EXAMPLE", "gitleaks/gitleaks cmd/generate/config/rules/aws.go", "aws-access-key-id"],
  ["aws-access-key-id", "CTTCATAGGGTTCACGCTGTGTAAT-ACG--CCTGAGGC-CACA-AGGGGACTTCAGCAACCGTCGGG-GATTC-ATTGCCA-A--TGGAAGCAATC-TA-TGGGTTA-TCGCGGAGTCCGCAAAGACGGCCAGTATG-AAGCAGATTTCGCAC-CAATGTGACTGCATTTCGTG-ATCGGGGTAAGTA-TC-GCCGATTC-GC--CCGTCCA-AGT-CGAAG-TA", "gitleaks/gitleaks cmd/generate/config/rules/aws.go"],
  ["secret-assignment", "\"accessor\":\"rA1wk0Y45YCufyfq\",", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "report_access_id: e8e4df51-2054-49b0-ab1c-516ac95c691d", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "accessibilityYesOptionId = \"0736f5ef-7e88-499a-80cc-90c85d2a5180\"", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "this.ultraPictureBox1.Name = \"ultraPictureBox1\";", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "rapidstring:marm64-uwp=fail", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "event-bus-message-api:rc0.15.0_20231217_1420-SNAPSHOT'", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "COMMUNICATION_API_VERSION=rc0.13.0_20230412_0712-SNAPSHOT", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "MantleAPI_version=9a038989604e8da62ecddbe2094b16ce1b778be1", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "[DEBUG]\t\torg.slf4j.slf4j-api:jar:1.7.8.:compile (version managed from default)", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "apiUrl=apigee.corpint.com", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "X-API-Name\": \"NRG0-Hermes-INTERNAL-API\",", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "X-MS-Exchange-Organization-AuthSource: sm02915.int.contoso.com", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "Authentication-Results: 5h.ca.iphmx.com", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "withCredentials([usernamePassword(credentialsId: '29f63271-dc2f-4734-8221-5b31b5169bac', usernameVariable: 'USERNAME', passwordVariable: 'PASSWORD')]) {", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "credentialsId: 'ff083f76-7804-4ef1-80e4-fe975bb9141b'", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "jobCredentialsId: 'f4aeb6bc-2a25-458a-8111-9be9e502c0e7'", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "dev.credentials.url=dev-lb1.api.f4ke.com:5215", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "keyword: \"Befaehigung_P2\"", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "pub const X509_pubkey_st = struct_X509_pubkey_st;", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "|| pIdxKey->default_rc==0", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "monkeys-audio:mx64-uwp=fail", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "<entry key=\"jetbrains.mps.v8_elimination\" value=\"executed\" />", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "minisat-master-keying:x64-uwp=fail", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "IceSSL.KeyFile=s_rsa1024_priv.pem", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "\"bucket_key\": \"SalesResults-1.2\"", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "schemaKey = 'DOC_Vector_5_32'", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "sequenceKey = \"18\"", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "app.keystore.file=env/cert.p12", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "\tdoc.Security.KeySize = PdfEncryptionKeySize.Key128Bit;", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "o.keySelector=n,o.haKey=!1,", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "                                \"key_name\": \"prod5zyxlmy-cmk\",", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "                                \"kms_key_id\": \"555ea4a3-d53a-4412-9c66-3a7cb667b0d6\",", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "\t\"key_vault_name\": \"web21prqodx24021\",", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "const validKeyChars = \"0123456789abcdefghijklmnopqrstuvwxyz_-.\"", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "key_length = XSalsa20.key_length", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "KeyPair = X25519.KeyPair", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "BlindKeySignatures = Ed25519.BlindKeySignatures", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "AVEncVideoMaxKeyframeDistance, \"2987123a-ba93-4704-b489-ec1e5f25292c\"", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "            keyPressed = kVK_Return.u16", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "timezone_mapping = {\n    \"Turkey Standard Time\": \"Europe/Istanbul\",\n}", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "password combination.\n\nR5: Regulatory--21", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "PuttyPassword=0", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "  <UserSecretsId>79a3edd0-2092-40a2-a04d-dcb46d5ca9ed</UserSecretsId>", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "secretSize must be >= XXH3_SECRET_SIZE_MIN", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "    access_token_url='https://github.com/login/oauth/access_token',", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "notes            = \"Maven - io.jsonwebtoken:jjwt-jackson-0.11.2\"", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "clientId = \"73082700-1f09-405b-80d0-3131bfd6272d\"", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "GITHUB_API_KEY=\nDYNATRACE_API_KEY=", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "snowflake.password=\njdbc.snowflake.url=", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "import { chain_Anvil1_Key, chain_Anvil2_Key } from '../blockchain-tests/pallets/supported-chains/consts';", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
  ["secret-assignment", "SRCREV_moby = \"43fc912ef59a83054ea7f6706df4d53a7dea4d80\"", "gitleaks/gitleaks cmd/generate/config/rules/generic.go"],
]

// presidio-analyzer/tests/test_iban_recognizer.py: every third valid IBAN, every fourth invalid one.
const PRESIDIO_IBANS = ["AL47212110090000000235698741","AD12 0001 2030 2003 5910 0100","AZ21NABZ00000000137010001944","BH67 BMAG 0000 1299 1234 56","BE68539007547034","BA39 1290 0794 0102 8494","BG80BNBG96611020345678","CR05 0152 0200 1026 2840 66","CY17002001280000001200527600","CZ65 0800 0000 1920 0014 5399","DO28BAGR00000001212453611324","TL38 0080 0123 4567 8910 157","FO6264600001631634","FI21 1234 5600 0007 85","GE29NB0000000101904917","DE89 3704 0044 0532 0130 00","GR1601101250000000012300695","GL89 6471 0001 0002 06","HU42117730161111101800000000","IS14 0159 2600 7654 5510 7303 39","IL620108000000099999999","IT60 X054 2811 1010 0000 0123 456","KZ86125KZT5004100100","XK05 1212 0123 4567 8906","LV80BANK0000435195001","LB62 0999 0000 0001 0019 0122 9114","LT121000011101001000","LU28 0019 4006 4475 0000","MR1300020001010000123456753","MU17 BOMM 0101 1010 3030 0200 000M UR","MC5811222000010123456789030","ME25 5050 0001 2345 6789 51","MK07250120000058984","NO93 8601 1117 947","PS92PALS000000000400123456702","PL61 1090 1014 0000 0712 1981 2874","QA58DOHB00001234567890ABCDEFG","RO49 AAAA 1B31 0075 9384 0000","SA0380000000608010167519","RS35 2600 0560 1001 6113 79","SI56263300012039086","ES91 2100 0418 4502 0005 1332","CH9300762011623852957","TN59 1000 6035 1835 9847 8831","AE070331234567890123456","GB29 NWBK 6016 1331 9268 19","VG96VPVG0000012345678901","EG38 0019 0005 0000 0000 2631 8000 2","IQ98NBIQ850123456789012","LC55 HEMM 0001 0001 0012 0012 0002 3015","LY83002048000020100120361"]
const PRESIDIO_NOT_IBANS = ["AL47 212A 1009 0000 0002 3569 8741","AD12000A203020035910010","AT61 1904 3002 3457 3202","BH67BMA100001299123456","BY13 NBRB 3600 9000 0000 2Z00 AB0","BE71 0961 2345 6760","BR97 0036 A305 0000 1000 9795 493P 1","BG80BNBG9661102034567","CR05 0152 0200 1026 2840 67","CY17 0020 A128 0000 0012 0052 7600","CZ65 0800 0000 1920 0014 539","DK50 0040 0440 1162 44","TL38 A080 0123 4567 8910 157","FO62 A460 0001 6316 34","FR14 A004 1010 0505 0001 3M02 606","DE89 A704 0044 0532 0130 00","GR16 0110 1250 0000 0001 2300 696","HU42 A177 3016 1111 1018 0000 0000","IE29 AIBK A311 5212 3456 78","IT60 XW54 2811 1010 0000 0123 456","KZ86 A25K ZT50 0410 0100","KW81 CBKU 0000 0000 0000 1234 5601 02","LI21 A881 0000 2324 013A A","LU28 A019 4006 4475 0000","MR13 A002 0001 0100 0012 3456 753","MD24 AG00 0225 1000 1310 416","ME25 A050 0001 2345 6789 51","MK07 A501 2000 0058 984","PK36 SCBL A000 0011 2345 6702","PL61 A090 1014 0000 0712 1981 2874","QA58 0OHB 0000 1234 5678 90AB CDEF G","SM86 0032 2509 8000 0000 0270 100","RS35 A600 0560 1001 6113 79","SI56 A633 0001 2039 086","SE45 A000 0000 0583 9825 7466","TN59 A000 6035 1835 9847 8831","AE07 A331 2345 6789 0123 456","VA59 A011 2300 0012 3456 78","EG38A019000500000000263180002","IQ98NBIQ850123456789013","AB150120690000003111141","IL150120690000003111141"]

// A base64 PNG as logs carry it (secretlint/secretlint docs/assets/docsUrl.png, first bytes).
const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAABgQAAAKSCAYAAAAd5LBKAAAMTWlDQ1BJQ0MgUHJvZmlsZQAASImVVwdYU8kWnltSSWiBCEgJvYkiNYCUEFoEAamCqIQkkFBiTAgqdmRRwbWLKNjQVREXXQsga0Vd66LYXctiQWVlXVzFhsqbFNDVV753vm/u/XPmzH/KnZnMAKBXw5fJ8lF9AAqkhfKEyFDWuLR0FukRQIEuYAJ94MUXKGSc+PgYAGXg/U95fR0gqvcVNxXXt/3/VQyEIoUAACQe4iyhQlAA8X4A8BKBTF4IAJEN9bZTC2UqnAGxkRwGCLFMhXM0uFSFszS4Sm2TlMCFeBcAZBqfL88BQLcZ6llFghzIo3sTYnepUCIFQI8McZBAzBdCHAXxsIKC'

/**
 * Builds the held-out corpus (deterministic: it holds no generated values).
 *
 * @example
 * ```ts
 * heldOutCorpus().positives.length // 300 or more
 * ```
 */
export function heldOutCorpus(): { positives: PositiveCase[]; negatives: NegativeCase[] } {
  const positives: PositiveCase[] = []
  const negatives: NegativeCase[] = []
  const pos = (kind: string, text: string, secret: string, source: string): void => {
    if (!text.includes(secret)) throw new Error(`held-out corpus: a ${kind} case does not contain its secret`)
    positives.push({ kind, text, secret, source })
  }
  const neg = (kind: string, text: string, source: string, rule?: string): void => {
    negatives.push(rule === undefined ? { kind, text, source } : { kind, text, source, rule })
  }
  for (const [kind, text, secret, source] of EXTRACTED_POSITIVES) pos(kind, text, secret, source)
  for (const [kind, text, source, rule] of EXTRACTED_NEGATIVES) neg(kind, text, source, rule)

  // ---- TruffleHog detector tests ----
  pos('aws-access-key-id', 'aws credentials{\n\tid: ABIAS9L8MS5IPHTZPPUQ\n\tsecret: .v2QPKHl7LcdVYsjaR4LgQiZ1zw3MAnMyiondXC63;\n}', 'ABIAS9L8MS5IPHTZPPUQ', `${TH}/aws/access_keys/accesskey_test.go`)
  pos('aws-secret-access-key', 'aws credentials{\n\tid: ABIAS9L8MS5IPHTZPPUQ\n\tsecret: .v2QPKHl7LcdVYsjaR4LgQiZ1zw3MAnMyiondXC63;\n}', 'v2QPKHl7LcdVYsjaR4LgQiZ1zw3MAnMyiondXC63', `${TH}/aws/access_keys/accesskey_test.go`)
  pos(
    'aws-access-key-id',
    '<com.cloudbees.plugins.credentials.impl.StringCredentialsImpl>\n  <scope>GLOBAL</scope>\n  <id>{AKIAWGXZ9OPDOWUJMZGI}</id>\n  <secret>{AQAAABAAA .v2QPKHl7LcdVYsjaR4LgQiZ1zw3MAnMyiondXC63;}</secret>\n</com.cloudbees.plugins.credentials.impl.StringCredentialsImpl>',
    'AKIAWGXZ9OPDOWUJMZGI',
    `${TH}/aws/access_keys/accesskey_test.go`,
  )
  pos('aws-secret-access-key', 'aws credentials{\n\tid: ABIAS9L8MS5IPHTZPXUR\n\tsecret: v2QPKHl7LcdVYsjaR4LgQiZ1zw3MAnMyiondDD21\n}', 'v2QPKHl7LcdVYsjaR4LgQiZ1zw3MAnMyiondDD21', `${TH}/aws/access_keys/accesskey_test.go`)
  for (const [text, secret] of [
    ['DefaultEndpointsProtocol=https;AccountName=storagetest123;AccountKey=YutGV0Vlauqsobd5tPWz2AKwHhBXMEWsAH+rSbz0UZUfaMVj1CFrcNQK47ygmrC4vHmc7eOp1LdM+AStk5mMyA==;EndpointSuffix=core.windows.net', 'YutGV0Vlauqsobd5tPWz2AKwHhBXMEWsAH+rSbz0UZUfaMVj1CFrcNQK47ygmrC4vHmc7eOp1LdM+AStk5mMyA=='],
    ['EndpointSuffix=core.windows.net;AccountKey=ldlKgoKPJhRjPJTkaC5c/QNqtu4sVQRc/teGJ0MZHbDYEHdvBV5z8JEfJK+evE87D7U8TzMZ0G2C+ASt2B4ifg==;AccountName=storagetest123;DefaultEndpointsProtocol=http', 'ldlKgoKPJhRjPJTkaC5c/QNqtu4sVQRc/teGJ0MZHbDYEHdvBV5z8JEfJK+evE87D7U8TzMZ0G2C+ASt2B4ifg=='],
    ['\t\t\tpublic const string SharedStorageKey = "DefaultEndpointsProtocol=https;AccountName=huntappstorage;AccountKey=rrttFty/b52ET/e8VqpMSN+ZqAUP7hcXVkdekrPX58gsMZyOCrE+igN07t3lyi7tAV0+OrJFBaDtMe06YJ2tFw==;EndpointSuffix=core.windows.net";', 'rrttFty/b52ET/e8VqpMSN+ZqAUP7hcXVkdekrPX58gsMZyOCrE+igN07t3lyi7tAV0+OrJFBaDtMe06YJ2tFw=='],
    ['    private const string storageAccountName = "k21storagemedia";\n    private const string storageAccountKey = "DFdukxfl0SwO4NB91bi/FTPh9BMEKr6Z5wWf+tGDfXMakXvGVp/NDzAUjWc/9171OqoDvXSj1o8N+AStUk1GXg==";', 'DFdukxfl0SwO4NB91bi/FTPh9BMEKr6Z5wWf+tGDfXMakXvGVp/NDzAUjWc/9171OqoDvXSj1o8N+AStUk1GXg=='],
    ['    public static final String DEFAULT_ACCOUNT_KEY\n            = "qYaZm3m8+Z2aYAiSDzzvStkTUgZXl29U76lDJ0qiob7bbV4g7kjtwO+FI2QoptGdZgEdtsAYzG8T0hl5TeftWA==";', 'qYaZm3m8+Z2aYAiSDzzvStkTUgZXl29U76lDJ0qiob7bbV4g7kjtwO+FI2QoptGdZgEdtsAYzG8T0hl5TeftWA=='],
  ] as const) {
    pos('azure-storage-key', text, secret, `${TH}/azure_storage/storage_test.go`)
  }
  pos('azure-devops-token', 'azure:\n\tazure_key: uie5tff7m5h5lqnqjhaltetqli90a08p6dhv9rn59uo30jgzw8un\n\tazure_org_id: WOkQXnjSxCyioEJRa8R6J39cN4Xfyy8CWl1BZksHYsevxVBFzG', 'uie5tff7m5h5lqnqjhaltetqli90a08p6dhv9rn59uo30jgzw8un', `${TH}/azuredevopspersonalaccesstoken/azuredevopspersonalaccesstoken_test.go`)
  pos('azure-devops-token', '<secret>{azure AQAAABAAA h0wpgbusyba8acyaec1uxxcbxlucgr490c6nvrvd8rylfocwkpg5}</secret>', 'h0wpgbusyba8acyaec1uxxcbxlucgr490c6nvrvd8rylfocwkpg5', `${TH}/azuredevopspersonalaccesstoken/azuredevopspersonalaccesstoken_test.go`)
  pos('discord-token', 'api:\n\tauth_type: "Token"\n\tdiscord_id: "17014529625858348"\n\tdiscord_secret: "oHILWmk3qakMYbqAikD9R0nJ.Vhu0LY.FK1U_2L2Of8Bm5ESbD6Cy4VKu2K"', 'oHILWmk3qakMYbqAikD9R0nJ.Vhu0LY.FK1U_2L2Of8Bm5ESbD6Cy4VKu2K', `${TH}/discordbottoken/discordbottoken_test.go`)
  pos('discord-token', '\tdiscord_hook: "https://discord.com/api/webhooks/144147826297622273/Rz9B09dB7cXxtldzXXfmJY0opIzgeANtGJw08vx5PXrP8BpbOeE5lZ7wx8vVcyacYkEl"', 'Rz9B09dB7cXxtldzXXfmJY0opIzgeANtGJw08vx5PXrP8BpbOeE5lZ7wx8vVcyacYkEl', `${TH}/discordwebhook/discordwebhook_test.go`)
  pos('discord-token', '\tdiscord_hook: "https://discord.com/api/webhooks/1369248176954937405/Q7bFGgbEMoZ-tRHuA4QHk3xTNC7nrrSmTm8IPjFvkp-ChRj4gi2C9lzvJiUcVlnE48X2"', 'Q7bFGgbEMoZ-tRHuA4QHk3xTNC7nrrSmTm8IPjFvkp-ChRj4gi2C9lzvJiUcVlnE48X2', `${TH}/discordwebhook/discordwebhook_test.go`)
  pos('mailchimp-key', 'mailchimp token = eda4fd37283490e9d99bcd633627063c-us5', 'eda4fd37283490e9d99bcd633627063c-us5', `${TH}/mailchimp/mailchimp_test.go`)
  pos('telegram-bot-token', 'telegrambottoken = 869511423:BctOM4-oBANUkq653PAPbo4HLs3DCd9NCDe', '869511423:BctOM4-oBANUkq653PAPbo4HLs3DCd9NCDe', `${TH}/telegrambottoken/telegrambottoken_test.go`)
  pos('twilio-key', 'twilio sid = AC1b3f0bddbb6887d68d8454e66c749c6a\ntwilio key = daf7b3d34b9787f1212316eea62ba186', 'daf7b3d34b9787f1212316eea62ba186', `${TH}/twilio/twilio_test.go`)
  pos('sendgrid-key', 'sendgrid = SG.ZV-VYwtHzJJW4wF8yPQk3.ZXg9c9DZuOgUcW1f2inP6SqfEsYG82zAe0wG7brZZ5OvruV-I', 'SG.ZV-VYwtHzJJW4wF8yPQk3.ZXg9c9DZuOgUcW1f2inP6SqfEsYG82zAe0wG7brZZ5OvruV-I', `${TH}/sendgrid/sendgrid_test.go`)
  pos('stripe-key', 'stripe = rk_live_HUOlkIKhNEYOPS0oDSwGwJHbg4xGaXNeJZ2CdvDGeVZQHljoq5TuFwQHgME3W', 'rk_live_HUOlkIKhNEYOPS0oDSwGwJHbg4xGaXNeJZ2CdvDGeVZQHljoq5TuFwQHgME3W', `${TH}/stripe/stripe_test.go`)
  pos('pypi-token', "pypi_token = 'pypi-AgEIcHlwaS5vcmcCJDQyM2M0Yjg4LWUyNDnnnnhhMy1hNigyLWI2ZWUyMTMwYzI2MgACKlszLCJhOWQwMWE0MS01Nzk4LTQyOWYtOTk4MS1lYzE5NTJhM2E3YzgiXQAABiBeGtDnnnnnV32VpiyeU-YUDKplSv0E5ngmwsnHaV2jGg'", 'pypi-AgEIcHlwaS5vcmcCJDQyM2M0Yjg4LWUyNDnnnnhhMy1hNigyLWI2ZWUyMTMwYzI2MgACKlszLCJhOWQwMWE0MS01Nzk4LTQyOWYtOTk4MS1lYzE5NTJhM2E3YzgiXQAABiBeGtDnnnnnV32VpiyeU-YUDKplSv0E5ngmwsnHaV2jGg', `${TH}/pypi/pypi_test.go`)
  pos('github-token', '"test_secrets": {\n\t"github_secret": "ghs_RWGUZ6kS8_Ut7PbtR72k2miJwwYtxkpe8mOpT8feAWYZcwz43PxBVGCNATnycaQV9VUlPJe1uST5Xen7d3uZ5lilVlEVvT9AbxnhURdT3OzPtCvXydIrvE4LrDO"\n}', 'ghs_RWGUZ6kS8_Ut7PbtR72k2miJwwYtxkpe8mOpT8feAWYZcwz43PxBVGCNATnycaQV9VUlPJe1uST5Xen7d3uZ5lilVlEVvT9AbxnhURdT3OzPtCvXydIrvE4LrDO', `${TH}/github/v2/github_test.go`)
  pos('gitlab-token', '"test_secrets": {\n\t"gitlab_secret": "glpat-W6fYSu70dPEo5w_SwbHWgQ"\n}', 'glpat-W6fYSu70dPEo5w_SwbHWgQ', `${TH}/gitlab/v2/gitlab_v2_test.go`)
  pos('openai-key', 'openai.api-key: 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', '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', `${TH}/openai/openai_test.go`)
  pos('openai-key', 'OPENAI_API_KEY = "sk-proj-mpjtr05CFsJqs4TAeKlCT3BlbkFJsh1KtN0SUjTPeJiagE8K"', 'sk-proj-mpjtr05CFsJqs4TAeKlCT3BlbkFJsh1KtN0SUjTPeJiagE8K', `${TH}/openai/openai_test.go`)
  pos('openai-key', 'OPENAI_API_KEY = "sk-svcacct-IUXtc5gIZK-2cBfB-nTgEWbD8mi-fi-gc20oGtq8ve51sET3BlbkFJCg8iQkCVz_nmE_q1dCWlMpemoaoMqHzQ6D-FnWGqlz4C8A"', 'sk-svcacct-IUXtc5gIZK-2cBfB-nTgEWbD8mi-fi-gc20oGtq8ve51sET3BlbkFJCg8iQkCVz_nmE_q1dCWlMpemoaoMqHzQ6D-FnWGqlz4C8A', `${TH}/openai/openai_test.go`)
  pos('anthropic-key', 'System Log - Authentication Token Issued\nDate: 2025-02-04 14:32:10 UTC\nService: Anthropic API Gateway\nAPI Key: sk-ant-api03-abc123xyz-456def789ghij-klmnopqrstuvwx-3456yza789bcde-1234fghijklmnopby56aaaogaopaaaabc123xyzAA', 'sk-ant-api03-abc123xyz-456def789ghij-klmnopqrstuvwx-3456yza789bcde-1234fghijklmnopby56aaaogaopaaaabc123xyzAA', `${TH}/anthropic/anthropic_test.go`)
  pos('anthropic-key', 'Admin Key: sk-ant-admin01-abc12fake-456def789ghij-klmnopqrstuvwx-3456yza789bcde-12fakehijklmnopby56aaaogaopaaaabc123xyzAA', 'sk-ant-admin01-abc12fake-456def789ghij-klmnopqrstuvwx-3456yza789bcde-12fakehijklmnopby56aaaogaopaaaabc123xyzAA', `${TH}/anthropic/anthropic_test.go`)
  pos('google-api-key', "gemini api key = 'AIzaSyDW1PXXav-TxriHUIrj1djZfHKIuInr7Aw'", 'AIzaSyDW1PXXav-TxriHUIrj1djZfHKIuInr7Aw', `${TH}/googlegemini/googlegemini_test.go`)
  pos('jwt', '// secret is "a-string-secret-at-least-256-bits-long"\neyJhbGciOiJIUzM4NCJ9.eyJtc2ciOiJoZWxsbyBoYWNrZXIsIHRoZXJlJ3Mgbm90aGluZyBmb3IgeW91IGhlcmUg8J-YhiJ9.NArdGjJ9DjXwGCLdNXDVjlwlvI_tUa2B3H44dvrZfKliBNTUL0YyKi8q4Al0Wl8u', 'eyJhbGciOiJIUzM4NCJ9.eyJtc2ciOiJoZWxsbyBoYWNrZXIsIHRoZXJlJ3Mgbm90aGluZyBmb3IgeW91IGhlcmUg8J-YhiJ9.NArdGjJ9DjXwGCLdNXDVjlwlvI_tUa2B3H44dvrZfKliBNTUL0YyKi8q4Al0Wl8u', `${TH}/jwt/jwt_test.go`)
  pos('jwt', 'ewogICJhbGciOiJIUzI1NiIsCiIgIHR5cCI6IkpXVCIKfQo.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiYWRtaW4iOnRydWUsImlhdCI6MTUxNjIzOTAyMn0.KMUFsIDTnFmyG3nMiGM6H9FNFUROf3wh7SmqJp-QV30', 'ewogICJhbGciOiJIUzI1NiIsCiIgIHR5cCI6IkpXVCIKfQo.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiYWRtaW4iOnRydWUsImlhdCI6MTUxNjIzOTAyMn0.KMUFsIDTnFmyG3nMiGM6H9FNFUROf3wh7SmqJp-QV30', `${TH}/jwt/jwt_test.go (a verbose header: {\\n "alg" …)`)
  pos('pem-private-key', "privatekey token = '-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEm\no3qGy0t6z09AIJtH+5OeRV1be+N4cDYJKffGzDa88vQENZiRm0GRq6a+HPGQMd2k\nTQIhAKMSvzIBnni7ot/OSie2TmJLY4SwTQAevXysE2RbFDYdAiEBCUEaRQnMnbp7\n9mxDXDf6AU0cN/RPBjb9qSHDcWZHGzUCIG2Es59z8ugGrDY+pxLQnwfotadxd+Uy\nv/Ow5T0q5gIJAiEAyS4RaI9YG8EWx/2w0T67ZUVAw8eOMB6BIUg0Xcu+3okCIBOs\n/5OiPgoTdSy7bcF9IGpSE8ZgGKzgYQVZeN97YE00\n-----END RSA PRIVATE KEY-----\n'", 'MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu', `${TH}/privatekey/privatekey_test.go`)
  for (const [text, secret] of [
    ['mongodb://agenda-live:m21w7PFfRXQwfHZU1Fgx0rTX29ZBQaWMODLeAjsmyslVcMmcmy6CnLyu3byVDtdLYcCokze8lIE4KyAgSCGZxQ==@agenda-live.mongo.cosmos.azure.com:10255/?retryWrites=false&ssl=true&replicaSet=globaldb&maxIdleTimeMS=120000&appName=@agenda-live@', 'm21w7PFfRXQwfHZU1Fgx0rTX29ZBQaWMODLeAjsmyslVcMmcmy6CnLyu3byVDtdLYcCokze8lIE4KyAgSCGZxQ=='],
    ['mongodb://myDBReader:D1fficultP%40ssw0rd@mongodb0.example.com:27017/?authSource=admin', 'D1fficultP%40ssw0rd'],
    ['mongodb://myDBReader:D1fficultP%40ssw0rd@192.168.74.143:27017', 'D1fficultP%40ssw0rd'],
    ['mongodb://prisma:risima@srv1.bu2lt.mongodb.net:27017,srv2.bu2lt.mongodb.net:27017,srv3.bu2lt.mongodb.net:27017/test?retryWrites=true&w=majority', 'risima'],
    ['mongodb://cefapp:MdTc8Kc8DzlTE1RUl1JVDGS4zw1U1t6145sPWqeStWA50xEUKPfUCGlnk3ACkfqH6qLAwpnm9awpY1m8dg0YlQ==@cefapp.documents.azure.com:10250/?ssl=true&amp;sslverifycertificate=false', 'MdTc8Kc8DzlTE1RUl1JVDGS4zw1U1t6145sPWqeStWA50xEUKPfUCGlnk3ACkfqH6qLAwpnm9awpY1m8dg0YlQ=='],
    ['mongodb://u%24ername:pa%24%24w%7B%7Drd@%2Ftmp%2Fmongodb-27017.sock/test', 'pa%24%24w%7B%7Drd'],
    ['mongodb://root:randompassword@cluster0.ab1cd.mongodb.net/mydb?retryWrites=true&w=majority', 'randompassword'],
    ['mongodb://AKIAAAAAAAAAAAA:t9t2mawssecretkey@localhost:27017/?authMechanism=MONGODB-AWS&authsource=$external', 't9t2mawssecretkey'],
    ['mongodb://root:8b6zfr4b@fastgpt-mongo-mongodb.ns-hti44k5d.svc:27017/', '8b6zfr4b'],
  ] as const) {
    pos('url-credentials', text, secret, `${TH}/mongodb/mongodb_test.go`)
  }
  pos('url-credentials', '"test_secrets": {\n\t"secret": "ftp://test:nonprod@ftp-enterprise",\n}', 'nonprod', `${TH}/ftp/ftp_test.go`)
  pos('url-credentials', "redis token - 'redis://1SHPg6BjyS:$YYbMDot25P@PvfdX9VshFjW'", '$YYbMDot25P', `${TH}/redis/redis_test.go`)
  pos('url-credentials', "postgres token - 'postgres://sN19x:d7N8bs@1.2.3.4:5432'", 'd7N8bs', `${TH}/postgres/postgres_test.go`)
  pos('url-credentials', '<p><a href="http://username:password@127.0.0.1">http://username:password@127.0.0.1</a></p>', 'username:password', `${TH}/uri/uri_test.go`)
  pos('connection-string-password', "redis token - 'QZc67koZ6rUV.redis.cache.windows.net:6380,password=Xcc3S9d7And6aMdfOcUc0acHJh3CiDh3l9DsapNwGwyS,ssl=True,abortConnect=False'", 'Xcc3S9d7And6aMdfOcUc0acHJh3CiDh3l9DsapNwGwyS', `${TH}/redis/redis_test.go`)
  pos('connection-string-password', 'jdbc:hive9://foo.example.com:10191/default;user=MyRoleUser;password=MyPa$$w0rd...', 'MyPa$$w0rd', `${TH}/jdbc/jdbc_test.go`)
  for (const text of [
    'builder.Services.AddDbContext<Database>(optionsBuilder => optionsBuilder.UseSqlServer("Server=localhost;Initial Catalog=master;User ID=sa;Password=P@ssw0rd!;Persist Security Info=true;MultipleActiveResultSets=true;"));',
    '{"ConnectionStrings": {"Demo": "Server=localhost;Initial Catalog=master;User ID=sa;Password=P@ssw0rd!;Persist Security Info=true;MultipleActiveResultSets=true;"}}',
    'CONNECTION_STRING: Server=localhost;Initial Catalog=master;User ID=sa;Password=P@ssw0rd!;Persist Security Info=true;MultipleActiveResultSets=true',
  ]) {
    pos('connection-string-password', text, 'P@ssw0rd!', `${TH}/sqlserver/sqlserver_test.go`)
  }
  pos('connection-string-password', '<add name="Sample2" value="SERVER=server_name;DATABASE=database_name;user=user_name;pwd=plaintextpassword;encrypt=true;Timeout=120;MultipleActiveResultSets=True;" />', 'plaintextpassword', `${TH}/sqlserver/sqlserver_test.go`)
  neg('aws-access-key-id', 'aws credentials{\n\tid: AKIAs9L8MS5iPHTZPPUQ\n}', `${TH}/aws/access_keys/accesskey_test.go`)
  neg('mailchimp-key', 'mailchimp token = eda4fd37283490e9d99bcd633627063c-us', `${TH}/mailchimp/mailchimp_test.go`, 'mailchimp-key')
  neg('slack-webhook', 'https://hooks.slack.com/apps/LAGGINGEXAMPLE/BASE/91nziTEEzAAcaNZiz1mPPoXyS', `${TH}/slackwebhook/slackwebhook_test.go`)
  neg('url-credentials', 'mongodb://mongodb0.example.com:27017/?replicaSet=myRepl', `${TH}/mongodb/mongodb_test.go`)
  neg('url-credentials', 'mongodb+srv://<user>:<password>@myMongoCluster.mongocluster.cosmos.azure.com', `${TH}/mongodb/mongodb_test.go`)
  neg('url-credentials', 'https://kaNydBSAodo87dsm9asuiSAFtsd7.com.1234@qYY3SylY7fHP', `${TH}/uri/uri_test.go`)

  // ---- detect-secrets plugin tests ----
  for (const [text, secret] of [
    ['xoxp-523423-234243-234233-e039d02840a0b9379c', 'xoxp-523423-234243-234233-e039d02840a0b9379c'],
    ['xoxo-523423-234243-234233-e039d02840a0b9379c', 'xoxo-523423-234243-234233-e039d02840a0b9379c'],
    ['xoxs-523423-234243-234233-e039d02840a0b9379c', 'xoxs-523423-234243-234233-e039d02840a0b9379c'],
    ['xoxa-2-511111111-31111111111-3111111111111-e039d02840a0b9379c', 'xoxa-2-511111111-31111111111-3111111111111-e039d02840a0b9379c'],
    ['xoxr-523423-234243-234233-e039d02840a0b9379c', 'xoxr-523423-234243-234233-e039d02840a0b9379c'],
    ['xoxb-34532454-e039d02840a0b9379c', 'xoxb-34532454-e039d02840a0b9379c'],
  ] as const) {
    pos('slack-token', text, secret, `${DS}/slack_test.py`)
  }
  pos('jwt', 'eyJ0eXAiOiJKV1QiLA0KImFsZyI6IkhTMjU2In0.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ', 'eyJ0eXAiOiJKV1QiLA0KImFsZyI6IkhTMjU2In0.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ', `${DS}/jwt_test.py`)
  pos('jwt', 'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJuYW1lIjoiSm9lIiwKInN0YXR1cyI6ImVtcGxveWVlIgp9', 'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJuYW1lIjoiSm9lIiwKInN0YXR1cyI6ImVtcGxveWVlIgp9', `${DS}/jwt_test.py`)
  pos('jwt', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IsWww6HFkcOtIMOWxZHDqcOoIiwiaWF0IjoxNTE2MjM5MDIyfQ.k5HibI_uLn_RTuPcaCNkaVaQH2y5q6GvJg8GPpGMRwQ', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IsWww6HFkcOtIMOWxZHDqcOoIiwiaWF0IjoxNTE2MjM5MDIyfQ.k5HibI_uLn_RTuPcaCNkaVaQH2y5q6GvJg8GPpGMRwQ', `${DS}/jwt_test.py`)
  for (const text of [
    '{"alg":"HS256","typ":"JWT"}.{"name":"Jon Doe"}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
    'bm90X3ZhbGlkX2pzb25fYXRfYWxs.bm90X3ZhbGlkX2pzb25fYXRfYWxs.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
    'eyJhbasdGciOiJIUaddasdasfsasdasdzI1NiIasdsInR5cCI6IkpXVCasdJasd9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
    'eyJAAAA.eyJBBB',
    'eyJBB.eyJCC.eyJDDDD',
  ]) {
    neg('jwt', text, `${DS}/jwt_test.py`)
  }
  pos('pem-private-key', '-----BEGIN RSA PRIVATE KEY-----\nsuper secret private key here\n-----END RSA PRIVATE KEY-----', 'super secret private key here', `${DS}/private_key_test.py`)
  pos('pem-private-key', 'some text here\n-----BEGIN PRIVATE KEY-----\nyabba dabba doo', 'yabba dabba doo', `${DS}/private_key_test.py`)
  pos('twilio-key', 'SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', `${DS}/twilio_test.py`)
  pos('sendgrid-key', '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', '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', `${DS}/sendgrid_test.py`)
  neg('sendgrid-key', 'AG.ngeVfQFYQlKU0ufo8x5d1A.TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr', `${DS}/sendgrid_test.py`)
  pos('telegram-bot-token', '110201543:AAHdqTcvCH1vGWJxfSe1ofSAs0K5PALDsaw', '110201543:AAHdqTcvCH1vGWJxfSe1ofSAs0K5PALDsaw', `${DS}/telegram_token_test.py`)
  pos('telegram-bot-token', '7213808860:AAH1bjqpKKW3maRSPAxzIU-0v6xNuq2-NjM', '7213808860:AAH1bjqpKKW3maRSPAxzIU-0v6xNuq2-NjM', `${DS}/telegram_token_test.py`)
  neg('telegram-bot-token', 'foo:AAH1bjqpKKW3maRSPAxzIU-0v6xNuq2-NjM', `${DS}/telegram_token_test.py`)
  neg('telegram-bot-token', 'arn:aws:sns:aaa:111122223333:aaaaaaaaaaaaaaaaaaassssssddddddddddddd', `${DS}/telegram_token_test.py`)
  pos('npm-token', '//registry.npmjs.org/:_authToken=743b294a-cd03-11ec-9d64-0242ac120002', '743b294a-cd03-11ec-9d64-0242ac120002', `${DS}/npm_test.py`)
  pos('npm-token', '//registry.npmjs.org/:_authToken= 346a14f2-a672-4668-a892-956a462ab56e', '346a14f2-a672-4668-a892-956a462ab56e', `${DS}/npm_test.py`)
  for (const text of [
    'pypi-AgEIcHlwaS5vcmcCJDU3OTM1MjliLWIyYTYtNDEwOC05NzRkLTM0MjNiNmEwNWIzYgACF1sxLFsitesttestbWluaW1hbC1wcm9qZWN0Il1dAAIsWzIsWyJjYWY4OTAwZi0xNDMwLTRiYQstYmFmMi1mMDE3OGIyNWZhNTkiXV0AAAYgh2UINPjWBDwT0r3tQ1o5oZyswcjN0-IluP6z34SX3KM',
    'pypi-AgENdGVzdC5weXBpLm9yZwIkN2YxOWZhOWEtY2FjYS00MGZhLTj2MGEtODFjMnE2MjdmMzY0AAIqWzMsImJlM2FiOWI5LTRmYUTnNEg4ZS04Mjk0LWFlY2Y2NWYzNGYzNyJdAAAGIMb5Hb8nVvhcAizcVVzA-bKKnwN7Pe0RmgPRCvrPwyJf',
  ]) {
    pos('pypi-token', text, text, `${DS}/pypi_token_test.py`)
  }
  for (const text of ['glpat-hellOworld380_testin', 'gldt-HwllOuhfw-wu0rlD_yep', 'glsoat-PREfix_helloworld380_testin_pretty_long_token_long', 'GR1348941PREfix_helloworld380', 'glcbt-helloworld380_testin']) {
    pos('gitlab-token', text, text, `${DS}/gitlab_token_test.py`)
  }
  for (const text of ['glpat_hellOworld380_testin', 'foo-hello-world80_testin', 'GR1348941helloWord0']) neg('gitlab-token', text, `${DS}/gitlab_token_test.py`)
  neg('github-token', 'foo_wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx', `${DS}/github_token_test.py`)
  pos('azure-storage-key', 'AccountKey=lJzRc1YdHaAA2KCNJJ1tkYwF/+mKK6Ygw0NGe170Xu592euJv2wYUtBlV8z+qnlcNQSnIYVTkLWntUO1F8j8rQ==', 'lJzRc1YdHaAA2KCNJJ1tkYwF/+mKK6Ygw0NGe170Xu592euJv2wYUtBlV8z+qnlcNQSnIYVTkLWntUO1F8j8rQ==', `${DS}/azure_storage_key_test.py`)
  pos('openai-key', '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', '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', `${DS}/openai_test.py`)
  for (const text of ['343ea45721923ed956e2b38c31db76aa-us30', 'a2937653ed38c31a43ea46e2b19257db-us2']) pos('mailchimp-key', text, text, `${DS}/mailchimp_key_test.py`)
  for (const text of ['3ea4572956e2b381923ed34c31db76aa-2', 'aea462953eb192d38c31a433e76257db-al32', '3a5633e829d3c71-us2']) neg('mailchimp-key', text, `${DS}/mailchimp_key_test.py`)
  for (const text of ['sk_live_ReTllpYQYfIZu2Jnf2lAPFjD', 'rk_live_5TcWfjKmJgpql9hjpRnwRXbT']) pos('stripe-key', text, text, `${DS}/stripe_key_test.py`)
  neg('stripe-key', 'pk_live_j5krY8XTgIcDaHDb3YrsAfCl', `${DS}/stripe_key_test.py`)
  pos('aws-access-key-id', 'aws_access_key = "AKIAIOSFODNN7SECRETS"', 'AKIAIOSFODNN7SECRETS', 'secretlint/secretlint packages/@secretlint/secretlint-rule-aws/test/snapshots/ng.AWS Access Key ID/input (context made here)')
  pos('aws-secret-access-key', 'AWS_SECRET_ACCESS_KEY = wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETSKEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETSKEY', 'secretlint/secretlint packages/@secretlint/secretlint-rule-aws/test/snapshots/ng.AWS Secret Access Key/input')
  pos('url-credentials', 'https://username:password@yelp.com', 'username:password', `${DS}/basic_auth_test.py`)
  for (const text of ['http://localhost:5000/<%= @variable %>', '"https://url:8000";@something else', "'https://url:8000';@something else", 'https://url:8000 @something else', 'https://url:8000/ @something else']) {
    neg('url-credentials', text, `${DS}/basic_auth_test.py`)
  }
  neg('ipv4', '1.2.3.4.5.6', `${DS}/ip_public_test.py`)
  neg('ipv4', '1.2.3.4.5.6.7.8', `${DS}/ip_public_test.py`)
  neg('ipv4', 'noreply@github.com', `${DS}/ip_public_test.py`, 'ipv4')
  pos('ipv4', 'This line has an IP address 133.133.133.133@something else', '133.133.133.133', `${DS}/ip_public_test.py`)
  pos('ipv4', 'This line has an IP address: 133.133.133.133:8080@something else', '133.133.133.133', `${DS}/ip_public_test.py`)

  // ---- Presidio recognizer tests ----
  for (const card of ['4012888888881881', '4012-8888-8888-1881', '4012 8888 8888 1881', '122000000000003', '371449635398431', '5555555555554444', '5019717010103742', '30569309025904', '6011000400000000', '3528000700000000', '6759649826438453', '4111111111111111', '4917300800000000', '4484070000000000']) {
    pos('credit-card', `my credit card: ${card}`, card, `${PRESIDIO}/test_credit_card_recognizer.py`)
  }
  for (const text of ['1748503543012', '4012-8888-8888-1882', 'my credit card number is 4012-8888-8888-1882', '36168002586008', 'my credit card number is 36168002586008']) {
    neg('credit-card', text, `${PRESIDIO}/test_credit_card_recognizer.py`, 'credit-card')
  }
  for (const iban of PRESIDIO_IBANS) pos('iban', iban, iban, `${PRESIDIO}/test_iban_recognizer.py`)
  for (const text of PRESIDIO_NOT_IBANS) neg('iban', text, `${PRESIDIO}/test_iban_recognizer.py`, 'iban')
  neg('iban', 'Slash as iban separator: AL47/2121/1009/0000/0002/3569/8741', `${PRESIDIO}/test_iban_recognizer.py`, 'iban')
  pos('iban', 'CY17 0020 0128 0000 0012 0052 7600 failed', 'CY17 0020 0128 0000 0012 0052 7600', `${PRESIDIO}/test_iban_recognizer.py`)
  for (const [text, secret] of [
    ['microsoft.com 192.168.0.1', '192.168.0.1'],
    ['IPv4: 192.168.1.1, IPv6: 2001:db8::1', '192.168.1.1'],
    ['Primary: 10.0.0.1, Secondary: 172.16.0.1', '172.16.0.1'],
  ] as const) {
    pos('ipv4', text, secret, `${PRESIDIO}/test_ip_recognizer.py`)
  }
  for (const [text, secret] of [
    ['microsoft.com 684D:1111:222:3333:4444:5555:6:77', '684D:1111:222:3333:4444:5555:6:77'],
    ['2345:0425:2CA1:0000:0000:0567:5673:23b5', '2345:0425:2CA1:0000:0000:0567:5673:23b5'],
    ['2345:0425:2CA1::0567:5673:23b5', '2345:0425:2CA1::0567:5673:23b5'],
    ['my ip is 2400:c401::5054:ff:fe1b:b031', '2400:c401::5054:ff:fe1b:b031'],
    ['Gateway: fe80::1 on interface', 'fe80::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['A099::09C0:876A:130B', 'A099::09C0:876A:130B'],
    ['Connect to [2001:db8::1]:8080', '2001:db8::1'],
    ['Visit http://[2001:db8::1]/path', '2001:db8::1'],
    ['SSH to user@2001:db8::1', '2001:db8::1'],
    ['Mapped: ::ffff:192.168.1.1', '192.168.1.1'],
    ['NAT64: 64:ff9b::198.51.100.1', '198.51.100.1'],
    ['2001:db8:85a3::8a2e:192.168.0.1', '2001:db8:85a3::8a2e:192.168.0.1'],
  ] as const) {
    pos('ipv6', text, secret, `${PRESIDIO}/test_ip_recognizer.py`)
  }
  for (const text of ['my ip: 192.168.0', 'Time 12:34:56', 'Ratio 1:2:3:4', 'CSS color #ff00aa', 'Version 1.2.3', 'Port 80:443', 'abc:def:ghi', '123:abc', 'file:///path/to/file', 'foo::1']) {
    neg('ipv6', text, text === 'foo::1' ? RELAY : `${PRESIDIO}/test_ip_recognizer.py`)
  }
  neg('ipv6', '::ffff:256.0.0.1', `${PRESIDIO}/test_ip_recognizer.py`, 'ipv6')
  neg('ipv6', '2001:db8::256.1.1.1', `${PRESIDIO}/test_ip_recognizer.py`, 'ipv6')
  for (const [text, secret] of [
    ['my email address is info@presidio.site', 'info@presidio.site'],
    ['try one of these emails: info@presidio.site or anotherinfo@presidio.site', 'anotherinfo@presidio.site'],
    ['my email is user@xn--80ak6aa92e.com today', 'user@xn--80ak6aa92e.com'],
  ] as const) {
    pos('email', text, secret, `${PRESIDIO}/test_email_recognizer.py`)
  }

  // ---- Sentry Relay's built-in PII rules ----
  for (const iban of ['DE89370400440532013000', 'NO9386011117945', 'RU0204452560040702810412345678901']) pos('iban', `some iban: ${iban}!`, iban, RELAY)
  neg('iban', 'some iban: NO938601111794!', RELAY, 'iban')
  neg('iban', 'some iban: N19386011117945!', RELAY, 'iban')
  pos('email', 'John Appleseed <john@appleseed.com>', 'john@appleseed.com', RELAY)
  pos('credit-card', 'John Appleseed 4571234567890111!', '4571234567890111', RELAY)
  pos('credit-card', 'John Appleseed 4571 2345 6789 0111!', '4571 2345 6789 0111', RELAY)
  pos('us-ssn', "Hi I'm Hilda and my SSN is 078-05-1120", '078-05-1120', RELAY)
  pos('mac-address', 'ether 4a:00:04:10:9b:50', '4a:00:04:10:9b:50', RELAY)
  pos('ipv4', 'before 127.0.0.1 after', '127.0.0.1', RELAY)
  pos('ipv6', 'before ::1 after', '::1', RELAY)
  pos('ipv6', '[2001:0db8:85a3:0000:0000:8a2e:0370:7334]', '2001:0db8:85a3:0000:0000:8a2e:0370:7334', RELAY)
  pos('url-credentials', 'https://username:password@example.com/', 'username:password', RELAY)
  pos('home-path', 'C:\\Users\\mitsuhiko\\Desktop', 'mitsuhiko', RELAY)
  pos('home-path', 'File in /Users/mitsuhiko/Development/sentry-stripping', 'mitsuhiko', RELAY)
  pos(
    'pem-private-key',
    'This is a comment I left on my key\n\n            -----BEGIN EC PRIVATE KEY-----\nMIHbAgEBBEFbLvIaAaez3q0u6BQYMHZ28B7iSdMPPaODUMGkdorl3ShgTbYmzqGL\nfojr3jkJIxFS07AoLQpsawOFZipxSQHieaAHBgUrgQQAI6GBiQOBhgAEAdaBHsBo\nKBuPVQL2F6z57Xb034TRlpaarne/XGWaCsohtl3YYcFll3A7rV+wHudcKFSvrgjp\nsoH5cUhpnhOL9ujuAM7Ldk1G+11Mf7EZ5sjrLe81fSB8S16D2vjtxkf/+mmwwhlM\nHdmUCGvfKiF2CodxyLon1XkK8pX+Ap86MbJhluqK\n-----END EC PRIVATE KEY-----',
    'MIHbAgEBBEFbLvIaAaez3q0u6BQYMHZ28B7iSdMPPaODUMGkdorl3ShgTbYmzqGL\nfojr3jkJIxFS07AoLQpsawOFZipxSQHieaAHBgUrgQQAI6GBiQOBhgAEAdaBHsBo\nKBuPVQL2F6z57Xb034TRlpaarne/XGWaCsohtl3YYcFll3A7rV+wHudcKFSvrgjp\nsoH5cUhpnhOL9ujuAM7Ldk1G+11Mf7EZ5sjrLe81fSB8S16D2vjtxkf/+mmwwhlM\nHdmUCGvfKiF2CodxyLon1XkK8pX+Ap86MbJhluqK',
    RELAY,
  )
  neg('uuid', 'user id ceee0822-ed8f-4622-b2a3-789e73e75cd1', RELAY)

  // ---- the same values where metadata carries them ----
  const contexts = (kind: string, secret: string, source: string): void => {
    const s = `${source}; ${MADE}`
    pos(kind, `{"level":"error","time":"2026-11-21T10:30:45.123Z","msg":"upstream call failed","client":{"key":"${secret}"},"status":401}`, secret, `${s} (JSON log line)`)
    pos(kind, `GET /v1/export?format=csv&api_key=${secret}&page=2 HTTP/1.1`, secret, `${s} (query string)`)
    pos(kind, `PATH=/usr/local/bin:/usr/bin\nHOSTNAME=worker-7\nSERVICE_CREDENTIAL=${secret}\nNODE_ENV=production`, secret, `${s} (env dump)`)
    pos(kind, `Error: request rejected for credential ${secret}\n    at Client.send (/app/dist/client.js:88:13)\n    at async Task.run (/app/dist/task.js:41:5)`, secret, `${s} (stack trace message)`)
    pos(kind, `service:\n  name: exporter\n  upstream:\n    credential: ${secret}\n    timeout: 30s`, secret, `${s} (YAML)`)
    pos(kind, `> POST /hooks HTTP/1.1\n> Host: api.example.com\n> Authorization: Bearer ${secret}\n> Accept: */*`, secret, `${s} (Authorization header)`)
  }
  contexts('github-token', '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', 'secretlint/secretlint packages/@secretlint/secretlint-rule-github/test/snapshots/ng.apikey/input.txt')
  contexts('slack-token', 'xoxb-23984754863-2348975623000-AAAAANzjawSSE9krECohd', 'secretlint/secretlint packages/@secretlint/secretlint-rule-slack/test/snapshots/ng.bot-token/input.txt')
  contexts('stripe-key', 'rk_live_5TcWfjKmJgpql9hjpRnwRXbT', `${DS}/stripe_key_test.py`)
  contexts('openai-key', 'sk-proj-mpjtr05CFsJqs4TAeKlCT3BlbkFJsh1KtN0SUjTPeJiagE8K', `${TH}/openai/openai_test.go`)
  contexts('sendgrid-key', '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', `${DS}/sendgrid_test.py`)
  contexts('gitlab-token', 'glpat-W6fYSu70dPEo5w_SwbHWgQ', `${TH}/gitlab/v2/gitlab_v2_test.go`)
  contexts('jwt', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c', `${DS}/jwt_test.py`)
  contexts('google-api-key', 'AIzaSyDW1PXXav-TxriHUIrj1djZfHKIuInr7Aw', `${TH}/googlegemini/googlegemini_test.go`)
  contexts('npm-token', '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', 'secretlint/secretlint packages/@secretlint/secretlint-rule-npm/test/snapshots/NPM_ACCESS_TOKEN/input')
  contexts('mailchimp-key', '343ea45721923ed956e2b38c31db76aa-us30', `${DS}/mailchimp_key_test.py`)
  contexts('telegram-bot-token', '7213808860:AAH1bjqpKKW3maRSPAxzIU-0v6xNuq2-NjM', `${DS}/telegram_token_test.py`)
  contexts('anthropic-key', 'sk-ant-api03-Dtjm9IZ_rYhS_ihHLZmPXhjJ6PN8UPp7vNO7qO3735RRDpf8xbWGinsch0McONXznUm-4KWoA7WU2otvvwHBR5QRjiLakAA', `${TH}/anthropic/anthropic_test.go`)
  // PII in the same places
  const S = `${MADE}`
  pos('email', `{"level":"info","msg":"password reset sent","to":"anotherinfo@presidio.site","request_id":"req_8f3a"}`, 'anotherinfo@presidio.site', `${PRESIDIO}/test_email_recognizer.py; ${S} (JSON log line)`)
  pos('email', 'GET /api/users?email=john%40appleseed.com&active=true', 'john%40appleseed.com', `${RELAY}; ${S} (query string, percent-encoded)`)
  pos('email', 'GET /unsubscribe?email=john@appleseed.com&list=weekly', 'john@appleseed.com', `${RELAY}; ${S} (query string)`)
  pos('credit-card', '{"event":"charge.failed","card":"4111111111111111","amount":1200}', '4111111111111111', `${PRESIDIO}/test_credit_card_recognizer.py; ${S} (JSON log line)`)
  pos('credit-card', 'ValueError: card 5555-5555-5555-4444 declined\n  File "/srv/app/billing.py", line 88, in charge', '5555-5555-5555-4444', `${PRESIDIO}/test_credit_card_recognizer.py; ${S} (stack trace message)`)
  pos('iban', 'payout:\n  iban: DE89 3704 0044 0532 0130 00\n  currency: EUR', 'DE89 3704 0044 0532 0130 00', `${RELAY}; ${S} (YAML)`)
  pos('us-ssn', '{"applicant":{"ssn":"078-05-1120","state":"CA"}}', '078-05-1120', `${RELAY}; ${S} (JSON)`)
  pos('ipv4', '2026-11-21T10:30:45Z WARN rate limit exceeded client=203.0.113.42 path=/v1/runs', '203.0.113.42', `${S} (a documentation address, RFC 5737, in a log line)`)
  pos('mac-address', 'dhcp: lease 10.0.0.7 to 4a:00:04:10:9b:50 for 3600s', '4a:00:04:10:9b:50', `${RELAY}; ${S} (log line)`)
  pos('home-path', "Error: ENOENT: no such file or directory, open '/home/mitsuhiko/projects/app/.env'", 'mitsuhiko', `${RELAY}; ${S} (stack trace message)`)
  // credentials in the forms logs carry
  pos('url-credentials', '{"level":"error","msg":"connect failed","dsn":"postgres://api_user:myC0mpl3xPwd@db.internal.com:5432/api_db"}', 'myC0mpl3xPwd', `secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.postgresql/input.txt; ${S} (JSON log line)`)
  pos('connection-string-password', 'System.Data.SqlClient.SqlException: Login failed for user. Connection: Server=localhost;Initial Catalog=master;User ID=sa;Password=P@ssw0rd!;', 'P@ssw0rd!', `${TH}/sqlserver/sqlserver_test.go; ${S} (exception message)`)
  pos('secret-assignment', 'PG_USERNAME=root. PG_PASSWORD=m42ploz2wd', 'm42ploz2wd', 'secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.postgresql/input.txt')
  pos('secret-assignment', 'PGPASSWORD=strongp@ss psql -hdb-postgresql-ams3-58486-do-user-7772205-0.b.db.ondigitalocean.com -Udoadmin -p 25060', 'strongp@ss', 'secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.postgresql/input.txt')
  pos('secret-assignment', 'mysql --user=doadmin --password=strongp@55! --host=db-mysql-ams3-23775-do-user-7772205-0.a.db.ondigitalocean.com', 'strongp@55!', 'secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.mysql/input.txt')
  pos('connection-string-password', 'jdbc:mysql://[(host=myhost1,port=1111,user=sandy,password=secret),(host=myhost2,port=2222,user=finn,password=secret)]/db', 'secret', 'secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.mysql/input.txt')
  pos('url-credentials', 'jdbc:mysql://sandy:secret@[myhost1:1111,myhost2:2222]/db', 'sandy:secret', 'secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.mysql/input.txt')
  pos('connection-string-password', 'Server=myServerAddress;Database=myDataBase;Uid=myUsername;Pwd=myPassword;', 'myPassword', 'secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ng.mysql/input.txt')

  // ---- metadata that must stay readable ----
  for (const [text, source] of [
    ['commit b58d3f102cf3a2c84cb7f923d05c25c9b1aed84b (HEAD -> master) Merge pull request #2197', 'gitleaks/gitleaks git log (a commit id)'],
    ['checked out e18d0da1 and rebased onto c33331503ad17dcf3c8f6ae6e3ce792fda14a415', 'gitleaks/gitleaks git log (commit ids)'],
    ["  '@azu/format-text@1.0.2':\n    resolution: {integrity: sha512-Swi4N7Edy1Eqq82GxgEECXSSLyn6GOb5htRFPzBDdUkECGXtlf12ynO5oJSpWKPwCaUssOu7NfhDcCWpIC6Ywg==}", 'secretlint/secretlint pnpm-lock.yaml'],
    ['"integrity": "sha512-AHcTojlNBdD/3/KxIKlg8sxIWHfOtQszLvOpagLTO+bjC3u7SAszu1lf//u7JJC50aUSH+BVWDD/KvaA6Gfn5g=="', 'secretlint/secretlint pnpm-lock.yaml (as package-lock.json spells it)'],
    [`{"level":"debug","msg":"thumbnail rendered","data":"data:image/png;base64,${PNG_BASE64}"}`, 'secretlint/secretlint docs/assets/docsUrl.png (first bytes, base64); context made here'],
    ['export const EXAMPLE_MODEL = "claude-3-opus-20240229";', 'secretlint/secretlint packages/@secretlint/secretlint-rule-anthropic/test/snapshots/ok.valid/input.txt'],
    ['https://docs.stripe.com/keys', 'secretlint/secretlint packages/@secretlint/secretlint-rule-stripe/test/snapshots/ok.valid/input.txt'],
    ['const MONGO_NO_AUTH = "mongodb://localhost:27017/database";', 'secretlint/secretlint packages/@secretlint/secretlint-rule-database-connection-string/test/snapshots/ok.valid/input.txt'],
  ] as const) {
    neg('metadata', text, source)
  }
  for (const text of [
    'run 3f2b7c1e-9a4d-4e8b-b6a1-2c5d8e9f0a1b finished in 1532 ms (attempt 2 of 3)',
    '2026-11-21 10:30:45,123 INFO  [main] o.a.k.c.c.KafkaConsumer - Subscribed to topic(s): orders-v2',
    'image sha256:9b2c8f1e5a7d3c6b4e0f2a1d8c7b6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d pulled in 4.2s',
    'wrote s3://analytics-prod/exports/2026/11/21/part-00007-5c1f.snappy.parquet (12.4 MiB)',
    'GET https://api.github.com/repos/gitleaks/gitleaks/releases?per_page=30&page=2 -> 200',
    'flow "nightly-etl" version 2.14.0-rc.3 (build 20261121.4) scheduled at 02:00 UTC',
    '  at Object.<anonymous> (/app/dist/tasks/export.js:42:17)\n  at Module._compile (node:internal/modules/cjs/loader:1256:14)',
    'trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 sampled=1',
    'cache hit for key result:md5:5d41402abc4b2a76b9719d911017c592 (ttl 3600s)',
    'Retrying in 2.5s (attempt 3/5): HTTP 503 from https://hooks.example.com/v1/notify',
    'processed 1,048,576 records; p99 latency 12.7ms; heap 512MiB/2GiB',
    'Downloading numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl (18.3 MB)',
    'config loaded from /etc/airflow/airflow.cfg and ./conf/settings.yaml',
    'order 20261121-000123 shipped; tracking 1Z999AA10123456784',
    'The token endpoint is https://oauth2.googleapis.com/token and the password policy requires 12 characters.',
  ]) {
    neg('metadata', text, 'made here: log metadata that must stay readable')
  }
  return { positives, negatives }
}
