/**
 * The detector corpus: sensitive values in their own sentences, and strings
 * that must not be flagged, taken from the public test suites of the
 * projects that detect secrets and PII for a living. Each case names its
 * source (repository and path). Where a source generates its value at
 * random (gitleaks' `secrets.NewSecret`), the case keeps the source's
 * sentence and makes its own value here, from a seeded generator, so no
 * credential-shaped literal is committed that its source does not already
 * publish as a test example.
 *
 * `bench/detectors.ts` measures recall, false positives and partial leaks
 * on it; `test/scrub/detector-corpus.test.ts` holds the targets.
 *
 * @example
 * ```ts
 * import { corpus } from './detector-corpus.js'
 * const { positives, negatives } = corpus()
 * ```
 */

/** A string holding a sensitive value that must not survive scrubbing. */
export interface PositiveCase {
  /** The kind of value, for per-kind recall (a detector id, or a finer name). */
  readonly kind: string
  readonly text: string
  /** What must not survive, whole or in part. */
  readonly secret: string
  /** Repository and path the case comes from. */
  readonly source: string
}

/**
 * A string the source says must not be flagged. It must come out unchanged;
 * or, when `rule` is set (the source says only that one rule must not match
 * it, and the text holds something else worth redacting), that rule must
 * not fire.
 */
export interface NegativeCase {
  readonly kind: string
  readonly text: string
  readonly source: string
  readonly rule?: string
}

const GITLEAKS = 'gitleaks/gitleaks cmd/generate/config/rules'
const GITLEAKS_FORMS = 'gitleaks/gitleaks cmd/generate/config/utils/generate.go (GenerateSampleSecrets forms)'
const NP = 'praetorian-inc/noseyparker crates/noseyparker/data/default/builtin/rules'
const DS = 'Yelp/detect-secrets tests/plugins/keyword_test.py'
const PRESIDIO = 'microsoft/presidio presidio-analyzer/tests'

// A deterministic generator, so every run builds the same corpus.
function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
const LOWER = 'abcdefghijklmnopqrstuvwxyz'
const DIGITS = '0123456789'
const ALNUM = UPPER + LOWER + DIGITS
const HEX = '0123456789abcdef'

/**
 * Builds the corpus (deterministic).
 *
 * @example
 * ```ts
 * corpus().positives.length // 200 or more
 * ```
 */
export function corpus(): { positives: PositiveCase[]; negatives: NegativeCase[] } {
  const rand = prng(18)
  const pick = (alphabet: string, n: number): string => {
    let out = ''
    for (let i = 0; i < n; i++) out += alphabet[Math.floor(rand() * alphabet.length)]
    return out
  }
  const positives: PositiveCase[] = []
  const negatives: NegativeCase[] = []
  const pos = (kind: string, text: string, secret: string, source: string): void => {
    if (!text.includes(secret)) throw new Error(`corpus: ${kind} case does not contain its secret`)
    positives.push({ kind, text, secret, source })
  }
  const neg = (kind: string, text: string, source: string, rule?: string): void => {
    negatives.push(rule === undefined ? { kind, text, source } : { kind, text, source, rule })
  }
  // gitleaks' sentence forms around a value (a selection of GenerateSampleSecrets).
  const forms = (kind: string, id: string, secret: string, source: string): void => {
    for (const form of [
      `${id}Token="${secret}"`,
      `${id}Token = ${secret}`,
      `{\n    "${id}_token": "${secret}"\n}`,
      `${id}_token: '${secret}'`,
      `${id}Token := "${secret}"`,
      `${id}Token := \`${secret}\``,
      `String ${id}Token = "${secret}";`,
      `  "${id}Token" => "${secret}"`,
      `System.setProperty("${id.toUpperCase()}_TOKEN", "${secret}")`,
      `${id.toUpperCase()}_TOKEN ?= "${secret}"`,
      `{"config.ini": "${id.toUpperCase()}_TOKEN=${secret}\\nBACKUP_ENABLED=true"}`,
    ]) {
      pos(kind, form, secret, `${source}; ${GITLEAKS_FORMS}`)
    }
  }

  // ---- AWS ----
  pos('aws-access-key-id', 'aws_access_key_id = AKIALALEMEL33243OLIB', 'AKIALALEMEL33243OLIB', `${GITLEAKS}/aws.go`)
  pos('aws-access-key-id', 'key: AKIADEADBEEFDEADBEEF', 'AKIADEADBEEFDEADBEEF', `${NP}/aws.yml`)
  pos('aws-access-key-id', `export AWS_ACCESS_KEY_ID=ASIA${pick(UPPER + '234567', 16)}`, '', `${GITLEAKS}/aws.go`)
  pos(
    'aws-secret-access-key',
    'aws_access_key_id = FakeValues99ESPW3ALMEZ6U\n  aws_secret_access_key = FakeValues99cl9bqJFVA3iFUm+yqVe08HxhXFE/',
    'FakeValues99cl9bqJFVA3iFUm+yqVe08HxhXFE/',
    `${NP}/aws.yml`,
  )
  pos(
    'aws-secret-access-key',
    "export AWS_ACCESS_KEY_ID=\"I08BCX2ACV45ED1DOC9J\"\nexport AWS_SECRET_ACCESS_KEY=\"0qk+o7XctJMmG6ydO8537c9+TofLJU1K0PiVBXSg\"",
    '0qk+o7XctJMmG6ydO8537c9+TofLJU1K0PiVBXSg',
    `${NP}/aws.yml`,
  )
  pos(
    'aws-secret-access-key',
    'AWS Access Key:AKIAIDQJ6PTGDFFWYX7A\nsecret key: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',
    'IwJz1SHMccAKUKuskdVoHFfkre73BTyF80nRmcWc',
    `${NP}/aws.yml`,
  )
  {
    const secret = `${pick(ALNUM, 20)}/${pick(ALNUM, 19)}`
    pos('aws-secret-access-key', `aws configure set aws_secret_access_key ${secret}`, secret, `${NP}/aws.yml (np.aws.2 form)`)
  }
  neg('aws-access-key-id', 'key = AKIAXXXXXXXXXXXXXXXX', `${GITLEAKS}/aws.go`)
  neg('aws-access-key-id', 'msgstr "Näytä asiakirjamallikansio."', `${GITLEAKS}/aws.go`)
  neg('aws-access-key-id', 'TODAYINASIAASACKOFRICEFELLOVER', `${GITLEAKS}/aws.go`)
  neg('aws-access-key-id', 'A3T0ABCDEFGHIjklmnop', `${NP}/aws.yml`)
  neg('aws-secret-access-key', 'export AWS_SECRET_ACCESS_KEY_FILE=/run/secrets/aws', 'made here: a name about the secret')

  // ---- Azure ----
  for (const text of [
    'client_secret=bP88Q~rcBcYjzzOhg1Hnn76Wm3jGgakZiZ.8vMgR',
    'client_secret: .IQ8Q~79R7TOWOspFnWcEG-dYt4KXqFqxK16cxr',
    'AUTH_CLIENTSECRET = _V28Q~IC8qxmlWNpHuDm34JlbKv9LXV5MvUR3a-P',
    '<value xsi:type="xsd:string">~Gg8Q~nVhlLi2vpg_nXBGqFsbGK-t~Hus1JmTa0y</value>',
    "Set-PSUAuthenticationMethod -Type 'OpenIDConnect' -CallbackPath '/auth/oidc' -ClientId 'fake' -ClientSecret '2Vq7Q~q5VgKljZ7cb3.0sp0Apz.vOjRIPyeTr'",
    '(use the client secret: QtT8Q~9C-_Ij~RouHVpD2Tuf3oHWGh.DQ3kcjbAn)',
  ]) {
    const secret = /[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}/.exec(text)![0]
    pos('azure-client-secret', text, secret, `${GITLEAKS}/azure.go`)
  }
  neg('azure-client-secret', 'client_secret=bP88Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', `${GITLEAKS}/azure.go`)
  neg('azure-client-secret', '~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~', `${GITLEAKS}/azure.go`)
  neg('azure-client-secret', `'url': 'http://www.2doc.nl/speel~VARA_101375237~mh17-het-verdriet-van-nederland~.html',`, `${GITLEAKS}/azure.go`)
  pos(
    'azure-storage-key',
    'AzureWebJobsStorage=DefaultEndpointsProtocol=https;AccountName=hanatour9833;AccountKey=6jqh42QQjWWBwoPGGR/Jr0PZjhBMZVbHm/gkhEfHvOj8aV6+oI8ed6ZAAwB5a6993WqyQDiuJJB0QpseJwqYxw==;EndpointSuffix=core.windows.net',
    '6jqh42QQjWWBwoPGGR/Jr0PZjhBMZVbHm/gkhEfHvOj8aV6+oI8ed6ZAAwB5a6993WqyQDiuJJB0QpseJwqYxw==',
    `${NP}/azure.yml`,
  )
  pos(
    'azure-storage-key',
    '"value": "HostName=d1-vi-ioth521.azure-devices.net;SharedAccessKeyName=registryReadWrite;SharedAccessKey=S8ii67l3Gd1Ba69az78iP9UksewzhjvUfh1DIuDs30w="',
    'S8ii67l3Gd1Ba69az78iP9UksewzhjvUfh1DIuDs30w=',
    `${NP}/azure.yml`,
  )
  pos(
    'azure-storage-key',
    '"value": "DefaultEndpointsProtocol=https;AccountName=d1biblobstor521;AccountKey=NjEwGHd9+piK+iCi2C2XURWPmeDDjif9UKN1HAszYptL4iQ+yD7/dgjLMZc3VOpURsa53aJ4HZfbVWzL429C5g==;EndpointSuffix=core.windows.net"',
    'NjEwGHd9+piK+iCi2C2XURWPmeDDjif9UKN1HAszYptL4iQ+yD7/dgjLMZc3VOpURsa53aJ4HZfbVWzL429C5g==',
    `${NP}/azure.yml`,
  )
  neg('azure-storage-key', 'InstrumentationKey=00000000-0000-0000-0000-000000000000;EndpointSuffix=ai.contoso.com;', `${NP}/azure.yml`)
  neg('azure-storage-key', 'AccountName=<YOUR_ACCOUNT_NAME>;\nAccountKey=<YOUR_ACCOUNT_KEY>;', `${NP}/azure.yml`)
  neg('azure-storage-key', 'AccountName={2};AccountKey={3};', `${NP}/azure.yml`)
  neg('azure-storage-key', 'let accountName = $accountName;\nlet accountKey = $accountKey;', `${NP}/azure.yml`)
  for (const [text, secret] of [
    ['var personalAccessToken = "zpczok4kqgnw5prpfy3ehiylbqvgbjfkdiqkejsxqamy7qbkep7q";', 'zpczok4kqgnw5prpfy3ehiylbqvgbjfkdiqkejsxqamy7qbkep7q'],
    ['$token = "58oo4mvqr2tpw7b4w3loeckwfu5o6nw3sihfckvlwoxgqimlddza"', '58oo4mvqr2tpw7b4w3loeckwfu5o6nw3sihfckvlwoxgqimlddza'],
    ['    ado_pat =  "iyfmob6xjrfmit67anxbot64umfx2clwx7dz5ynxi4q2z3uqegvq"', 'iyfmob6xjrfmit67anxbot64umfx2clwx7dz5ynxi4q2z3uqegvq'],
    ['6RtqHqPc66Y6DYbkydbrrFJTYnRoA7r40ts7LWS2SkINSFsRABxhJQQJ99BFACAAAAALGcqjAAASAZDO3eqU', '6RtqHqPc66Y6DYbkydbrrFJTYnRoA7r40ts7LWS2SkINSFsRABxhJQQJ99BFACAAAAALGcqjAAASAZDO3eqU'],
    [
      'azure_devops_pat             = "GBVknRcxXb9mv097EZvvmJhvdKEjmmllsz8puwgJHpnA8rAd912ZJQQJ96BBACAAAAAP0mgpAAASAZDO4Ssi"',
      'GBVknRcxXb9mv097EZvvmJhvdKEjmmllsz8puwgJHpnA8rAd912ZJQQJ96BBACAAAAAP0mgpAAASAZDO4Ssi',
    ],
  ] as const) {
    pos('azure-devops-token', text, secret, `${NP}/azure.yml`)
  }
  neg('azure-devops-token', '6RtqHqPc66Y6DYbkydbrrFJTYnRoA7r40ts7LWS2SkINSFsRABxhJQQJ99BFACAAAAALGcqjAAASAZDO3eq', `${NP}/azure.yml`)
  neg('azure-devops-token', 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1V2w3X4y5Z6a7B8c9D0e1F2g3H4i5J6k7L8m9XXXX12345', `${NP}/azure.yml`)

  // ---- Google ----
  pos(
    'google-oauth-token',
    "access_token:\n  'ya29.A0ARrdaM--PV_87ebjywDJpXKb77NBFJl16meVUapYdfNv6W6ZzCu947fNaPaRjbDbOIIcp6f49cMaX5ndK9TAFnKwlVqz3nrK9nLKqgyDIhYsIq47smcAIZkK56SWPx3X3DwAFqRu2UPojpd2upWwo-3uJrod',",
    'ya29.A0ARrdaM--PV_87ebjywDJpXKb77NBFJl16meVUapYdfNv6W6ZzCu947fNaPaRjbDbOIIcp6f49cMaX5ndK9TAFnKwlVqz3nrK9nLKqgyDIhYsIq47smcAIZkK56SWPx3X3DwAFqRu2UPojpd2upWwo-3uJrod',
    `${NP}/google.yml`,
  )
  pos(
    'google-oauth-token',
    "--propertyTable.access_token = 'ya29.Ci_UA7aEsvT6-oVI8f96kvB6i8oO13WgdZUviLaCVtpEPYZqhQcQycR-u2X9xtmYGA'",
    'ya29.Ci_UA7aEsvT6-oVI8f96kvB6i8oO13WgdZUviLaCVtpEPYZqhQcQycR-u2X9xtmYGA',
    `${NP}/google.yml`,
  )
  pos('google-oauth-token', 'const CLIENTSECRET = "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"', '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', `${NP}/google.yml`)
  pos("google-oauth-token", "  client_secret: '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',", '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', `${NP}/google.yml`)
  pos(
    'google-oauth-token',
    "refresh_token:\n  '1//039xWRt8YaYa3CgYIARAAGAMSNwF-L9Iru9FyuTrDSa7lkSceggPho83kJt2J29Ga91EhT1C6XV1vmo6bQS9puL_R2t8FIwR3gek',",
    '1//039xWRt8YaYa3CgYIARAAGAMSNwF-L9Iru9FyuTrDSa7lkSceggPho83kJt2J29Ga91EhT1C6XV1vmo6bQS9puL_R2t8FIwR3gek',
    `${NP}/google.yml`,
  )
  pos('google-api-key', "  var DEVELOPER_KEY = 'AIzaSyB4sU8lU15bR_87qNb7eUVQN72_vv8mpbU';", 'AIzaSyB4sU8lU15bR_87qNb7eUVQN72_vv8mpbU', `${NP}/google.yml`)
  {
    const keyId = pick(HEX, 40)
    const file = JSON.stringify(
      {
        type: 'service_account',
        project_id: 'demo-project',
        private_key_id: keyId,
        client_email: 'runner@demo-project.iam.gserviceaccount.com',
        client_id: pick(DIGITS, 21),
        auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      },
      null,
      2,
    )
    pos('gcp-service-account', `credentials file: ${file}`, keyId, `${GITLEAKS}/gcp.go ("type": "service_account"; file made here)`)
    pos('gcp-service-account', `loaded ${JSON.stringify(file)}`, keyId, `${GITLEAKS}/gcp.go (the file as a JSON string)`)
  }
  neg('gcp-service-account', 'the account type is "service_account" for workloads', 'made here: the words without a key file')

  // ---- vendor tokens ----
  pos('twilio-key', "const twilioApiKeySID = 'SK9b4cc552783500ace5414a1ed3e9fd1a'", 'SK9b4cc552783500ace5414a1ed3e9fd1a', `${NP}/twilio.yml`)
  pos("twilio-key", "'API'              => env('TWILIO_API','SK6e84981d07ace5c9df33e1ab043a2fb2'),", 'SK6e84981d07ace5c9df33e1ab043a2fb2', `${NP}/twilio.yml`)
  forms('twilio-key', 'twilio', `SK${pick(HEX, 32)}`, `${GITLEAKS}/twilio.go`)
  pos(
    'sendgrid-key',
    "      'SENDGRID_API_KEYSID': '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'",
    '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',
    `${NP}/sendgrid.yml`,
  )
  pos(
    'sendgrid-key',
    "var sendgrid = require('sendgrid')('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');",
    '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',
    `${NP}/sendgrid.yml`,
  )
  forms('sendgrid-key', 'sendgrid', `SG.${pick(ALNUM + '_-', 22)}.${pick(ALNUM + '_-', 43)}`, `${GITLEAKS}/sendgrid.go`)
  {
    const id = Buffer.from(`8${pick(DIGITS, 17)}`).toString('base64url')
    const token = `${id}.${pick(ALNUM, 6)}.${pick(ALNUM + '_-', 27)}`
    pos('discord-token', `DISCORD_BOT_TOKEN=${token}`, token, 'Yelp/detect-secrets tests/plugins/discord_test.py (form; value made here)')
    pos('discord-token', `client.login("${token}")`, token, 'Yelp/detect-secrets tests/plugins/discord_test.py (form; value made here)')
    const hook = pick(ALNUM + '_-', 68)
    pos('discord-token', `POST https://discord.com/api/webhooks/${pick(DIGITS, 18)}/${hook}`, hook, 'made here: a Discord webhook URL')
  }
  pos('mailchimp-key', "MAILCHIMP_API='bd3777708aecfee66c5335f62a6246a4-us13'", 'bd3777708aecfee66c5335f62a6246a4-us13', `${NP}/mailchimp.yml`)
  forms('mailchimp-key', 'mailchimp', `${pick(HEX, 32)}-us${1 + Math.floor(rand() * 20)}`, `${GITLEAKS}/mailchimp.go`)
  for (const text of [
    '# password = pypi-AgEIcHlwaS5vcmcCJDkwNzYwNzU1LWMwOTUtNGNkOC1iYjQzLTU3OWNhZjI1NDQ1MwACJXsicGVybWCf99lvbnMiOiAidXNlciIsICJ2ZXJzaW9uIjogMX0AAAYgSpW5PAywXvchMUQnkF5H6-SolJysfUvIWopMsxE4hCM',
    'password: pypi-AgEIcHlwaS5vcmcCJGExMDIxZjRhLTFhZDMtNDc4YS1iOWNmLWQwCf99OTIwZjFjNwACSHsicGVybWlzc2lvbnMiOiB7InByb2plY3RzIjogWyJkamFuZ28tY2hhbm5lbHMtanNvbnJwYyJdfSwgInZlcnNpb24iOiAxfQAABiBZg48cIBQt7HckwM4G3q-462xphsLbm7IZvjqMS4jvQw',
  ]) {
    pos('pypi-token', text, /pypi-[A-Za-z0-9_-]+/.exec(text)![0], `${NP}/pypi.yml`)
  }
  pos('telegram-bot-token', 'TELEGRAM_TOKEN=4839574813:AAFD39kkdpWt3ywyRZergyOLMaJhac61qc', '4839574813:AAFD39kkdpWt3ywyRZergyOLMaJhac61qc', `${NP}/telegram.yml`)
  pos('telegram-bot-token', 'bot = Bot("4839574813:AAE4A6Rz0CSnIGzeu897OjQnjzsMEG2_uso")', '4839574813:AAE4A6Rz0CSnIGzeu897OjQnjzsMEG2_uso', `${NP}/telegram.yml`)
  {
    const token = `${pick('123456789', 1)}${pick(DIGITS, 9)}:AA${pick(ALNUM + '_-', 33)}`
    pos('telegram-bot-token', `GET https://api.telegram.org/bot${token}/getUpdates`, token, 'made here: a Bot API URL')
  }
  pos('age-secret-key', 'AGE-SECRET-KEY-1HJCRJVK7EE3A5N8CRP8YSEUGZKNW90Y5UR2RGYAS8L279LFP6LCQU5ADNR', 'AGE-SECRET-KEY-1HJCRJVK7EE3A5N8CRP8YSEUGZKNW90Y5UR2RGYAS8L279LFP6LCQU5ADNR', `${NP}/age.yml`)
  pos(
    'age-secret-key',
    '# created: 2024-01-01\n# public key: age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj\nAGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX',
    'AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX',
    `${NP}/age.yml`,
  )
  {
    const pem = `-----BEGIN RSA PRIVATE KEY-----\n${pick(ALNUM + '+/', 64)}\n${pick(ALNUM + '+/', 64)}\n-----END RSA PRIVATE KEY-----\n`
    const wrapped = Buffer.from(pem).toString('base64')
    pos('base64-private-key', `PRIVATE_KEY_B64=${wrapped}`, wrapped, `${NP}/pem.yml (np.pem.2 form; key made here)`)
    pos('base64-private-key', `    "privateKey": "${wrapped}",`, wrapped, `${NP}/pem.yml (np.pem.2 form; key made here)`)
  }

  // ---- GitHub, GitLab, Stripe, npm, JWT ----
  forms('github-token', 'github', `ghp_${pick(ALNUM, 36)}`, `${GITLEAKS}/github.go`)
  pos('gitlab-token', `runner registration: GR1348941${pick(ALNUM + '_-', 20)}`, '', `${GITLEAKS}/gitlab.go (gitlab-rrt)`)
  pos('gitlab-token', `token: glrt-${pick(ALNUM, 20)}`, '', `${GITLEAKS}/gitlab.go (gitlab-runner-authentication-token)`)
  pos('gitlab-token', `glpat-${pick(ALNUM, 27)}.01${pick('0123456789abcdefghijklmnopqrstuvwxyz', 7)}`, '', `${GITLEAKS}/gitlab.go (gitlab-pat-routable)`)
  pos('gitlab-token', `CI_JOB_TOKEN=glcbt-${pick(ALNUM, 5)}_${pick(ALNUM, 20)}`, '', `${GITLEAKS}/gitlab.go (gitlab-cicd-job-token)`)
  pos('stripe-key', `stripe.api_key = "rk_live_${pick(ALNUM, 30)}"`, '', `${GITLEAKS}/stripe.go`)
  pos('stripe-key', `STRIPE_KEY=sk_prod_${pick(ALNUM, 99)}`, '', `${GITLEAKS}/stripe.go`)
  // A random value under a name ending in Token is a secret assignment all the same: only stripe-key must not fire.
  neg('stripe-key', `nonMatchingToken := "task_test_${pick(ALNUM, 30)}"`, `${GITLEAKS}/stripe.go`, 'stripe-key')
  pos(
    'jwt',
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJsb2dnZWRJbkFzIjoiYWRtaW4iLCJpYXQiOjE0MjI3Nzk2Mzh9.gzSraSYS8EXBxLN_oWnFSRgCzcmEmMjLiuyu5CSpyHI',
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJsb2dnZWRJbkFzIjoiYWRtaW4iLCJpYXQiOjE0MjI3Nzk2Mzh9.gzSraSYS8EXBxLN_oWnFSRgCzcmEmMjLiuyu5CSpyHI',
    `${NP}/jwt.yml`,
  )
  pos(
    'jwt',
    'curl -L -H "Authorization:eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJjb25maWRlbmNlIjowLjh9.kvRPfjAhLhtRTczoRgctVGp7KY1QVH3UBZM-gM0x8ec" service1.local',
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJjb25maWRlbmNlIjowLjh9.kvRPfjAhLhtRTczoRgctVGp7KY1QVH3UBZM-gM0x8ec',
    `${GITLEAKS}/curl.go`,
  )
  neg(
    'jwt',
    '<add key="ClearTextPassword" value="eyJ0eXAiOiAiVENWMiJ9.RkNWLXdXS3M1RVBfencxM4A0WmJzdVlCQzFj.OGY1OWRkNGMtYTUxYS04ZDYwLWFiZGYtZWE5MWFhZWJiODhh" />',
    `${NP}/jwt.yml`,
  )
  neg('jwt', 'it "sets the relation to nil" do\n  eye.eyeable.should be_nill\nend', `${NP}/jwt.yml`)
  neg('jwt', 'the header eyJhbGciOiJIUzI1NiJ9 alone', 'made here: a JWT header with no payload')

  // ---- curl, .netrc, connection strings, Authorization ----
  for (const [text, secret] of [
    ['curl --cacert ca.crt -u elastic:P@ssw0rd$1 https://localhost:9200', 'P@ssw0rd$1'],
    ["sh-5.0$ curl -k -X POST https://infinispan:11222/rest/v2/caches/default/hello \\\n  -H 'Content-type: text/plain' \\\n  -d 'world' \\\n  -u developer:yqDVtkqPECriaLRi", 'yqDVtkqPECriaLRi'],
    ['curl -u ":d2LkV78zLx!t" https://localhost:9200', 'd2LkV78zLx!t'],
    ['curl -u "d2LkV78zLx!t:" https://localhost:9200', 'd2LkV78zLx!t'],
    ["curl -sw '%{http_code}' -X POST --user  'johns:h0pk1ns~21s' $GItHUB_API_URL/$GIT_COMMIT --data", 'h0pk1ns~21s'],
    ['curl --user roger23@gmail.com:pQ9wTxu4Fg https://www.dropbox.com/cli_link?host_id=abcdefg -v', 'pQ9wTxu4Fg'],
    ['curl -s -v --user "j.smith:dB2yF6@qL9vZm1P#4J" "https://api.contoso.org/user/me"', 'dB2yF6@qL9vZm1P#4J'],
    ["curl --user kevin:'pRf7vG2h1L8nQkW9' -iX PATCH -H \"Content-Type: application/json\" -d", 'pRf7vG2h1L8nQkW9'],
    ['$ curl https://api.dropbox.com/oauth2/token \\\n  --user c28wlsosanujy2z:qgsnai0xokrw4j1 --data grant_type=authorization_code', 'qgsnai0xokrw4j1'],
  ] as const) {
    pos('curl-credentials', text, secret, `${GITLEAKS}/curl.go`)
  }
  for (const text of [
    "curl -i -u 'test:test'",
    '   curl -sL --user "$1:$2" "$3" > "$4"',
    'curl -u <user:password> https://test.com/endpoint',
    'curl --user neo4j:[PASSWORD] http://[IP]:7474/db/data/',
    'curl -u "myusername" http://localhost:15130/api/check_user/',
    'curl -u username:token',
    'curl -u "${_username}:${_password}"',
    'curl -k -X POST -I -u "SRVC_JENKINS:${APPID}"',
    `curl -sw '%{http_code}' -X POST --user '$USERNAME:$PASSWORD' $GItHUB_API_URL/$GIT_COMMIT --data`,
    'curl -XGET -i -u "${{ env.ELK_ID }}:${{ build.env.ELK_PASS }}"',
    'curl -X POST --user "$(cat ./login.txt):$(cat ./password.txt)"',
    '   curl -X GET --insecure --user "username:password" \\',
    'curl --silent --insecure --user ${f5user}:${f5pass} \\',
  ]) {
    neg('curl-credentials', text, `${GITLEAKS}/curl.go`)
  }
  // The loopback address is still an address (ipv4 fires): only curl-credentials must not.
  neg('curl-credentials', 'curl http://127.0.0.1:5000/file --user user:pass --digest        # digest auth', `${GITLEAKS}/curl.go`, 'curl-credentials')
  for (const [text, secret] of [
    ["curl --header  'Authorization:  5eb4223e-5008-46e5-be67-c7b8f2732305'", '5eb4223e-5008-46e5-be67-c7b8f2732305'],
    ['# curl -X GET "http://localhost:3000/api/cron/status" -H "Authorization: Bearer cfcabd11c7ed9a41b1a3e063c32d5114"', 'cfcabd11c7ed9a41b1a3e063c32d5114'],
    ['curl -H "Authorization: Bearer sha256~bRLFnzd59Z3XpZH5_seJPHALOuvbWiKwbFKSsoALkgp"', 'sha256~bRLFnzd59Z3XpZH5_seJPHALOuvbWiKwbFKSsoALkgp'],
    ['curl -H "Authorization: Api-Token 22cb987851bc5659l29114c62e60c79abd0d2c08" --request PUT https://appsecclass.report/api/use/635', '22cb987851bc5659l29114c62e60c79abd0d2c08'],
    ['curl -H "Authorization: Token 22cb987851bc5659229114c62e60c79abd0d2c08" --request PUT https://appsecclass.report/api/use/635', '22cb987851bc5659229114c62e60c79abd0d2c08'],
    ['curl -X GET \\\n     -H "apikey: c4ed6c21-9dd5-4a05-8e3f-c56d1151cce8" \\\n     -H "Accept: application/json" \\', 'c4ed6c21-9dd5-4a05-8e3f-c56d1151cce8'],
    ['curl -X POST --header "Api-Token: Sk94HG7f6KB"', 'Sk94HG7f6KB'],
    ["curl -H 'Authorization: Basic YnJvd3Nlcjo=' \\", 'YnJvd3Nlcjo='],
    ['Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==', 'QWxhZGRpbjpvcGVuIHNlc2FtZQ=='],
    ['GET /resource HTTP/1.1\nHost: server.example.com\nAuthorization: Bearer mF_9.B5f-4.1JqM', 'mF_9.B5f-4.1JqM'],
  ] as const) {
    pos('authorization-header', text, secret, secret === 'QWxhZGRpbjpvcGVuIHNlc2FtZQ==' || secret === 'mF_9.B5f-4.1JqM' ? `${NP}/http.yml` : `${GITLEAKS}/curl.go`)
  }
  for (const text of [
    'curl https://example.com/micropub -d h=entry -d "content=Hello World" -H "Authorization: Bearer XXXXXXXXXXXX"',
    'curl -X POST https://accounts.spotify.com/api/token -d grant_type=client_credentials --header "Authorization: Basic ..."',
    'curl \\\n  -H "Authorization: Bearer <Openverse API token>" \\\n  "https://api.openverse.org/v1/audio/?q=test"',
    'curl -v -X POST https://domain/api/v1/authentication/sso/login-url/ \\\n  -H "Authorization: Token **********" \\',
    'curl -X GET \\\n     -H "apikey: $API_KEY" \\\n     -H "Accept: $FORMAT" \\',
    '$ curl -X POST "http://localhost:8000/v1/chat/completions" \\\n    -H "Authorization: Bearer $API_KEY" \\',
    'curl -X GET -H "Authorization: Bearer $(gcloud auth print-access-token)" https://workflowexecutions.googleapis.com/v1/projects',
  ]) {
    neg('authorization-header', text, `${GITLEAKS}/curl.go`)
  }
  for (const [text, secret] of [
    ['machine api.github.com login ziggy^stardust password 012345abcdef', '012345abcdef'],
    ['```\nmachine raw.github.com\n  login visionmedia\n  password pass123\n```', 'pass123'],
    ['"""\nmachine api.wandb.ai\n  login user\n  password 7cc938e45e63e9014f88f811be240ba0395c02dd\n"""', '7cc938e45e63e9014f88f811be240ba0395c02dd'],
  ] as const) {
    pos('netrc-password', text, secret, `${NP}/netrc.yml`)
  }
  for (const [text, secret] of [
    ['Server=host;Port=5432;User Id=username;Password=secret;Database=databasename;', 'secret'],
    ['Data Source=190.190.200.100,1433;Network Library=DBMSSOCN;Initial Catalog=myDataBase;User ID=myUsername;Password=myPassword;', 'myPassword'],
    ['Provider=SQLNCLI;Server=myServerName,myPortNumber;Database=myDataBase;Uid=myUsername;Pwd=myPassword;', 'myPassword'],
    ['<add name="DevQATrucks" connectionString="Server=hookupsqlqa1\\gpkqa; Database=YogurtDelay: User Id=kmwulfliq; password= sK!g2Ex_=jJ6Gx5v" providerName="System.Data.SqlClient" />', 'sK!g2Ex_=jJ6Gx5v'],
    ['Server=db.internal;Database=app;User Id=etl;Password=correct horse battery staple;', 'correct horse battery staple'],
  ] as const) {
    pos('connection-string-password', text, secret, `${NP}/odbc.yml`)
  }
  neg('connection-string-password', "def login(self, user = '', password = '', domain = ''):", `${NP}/odbc.yml`)
  neg('connection-string-password', 'char *domain = NULL;\nchar *user = NULL;\nchar *password = NULL;', `${NP}/odbc.yml`)
  neg('connection-string-password', 'az appconfig feature delete --connection-string Endpoint=https://contoso.azconfig.io;Id=xxx;Secret=xxx --feature color', `${NP}/azure.yml`)

  // ---- secret-assignment: detect-secrets' keyword plugin and gitleaks' forms ----
  const COMMON = 'm{{h}o)p${e]nob(ody[finds>-_$#thisone}}'
  const WHITES = 'value with quotes and spaces'
  const LETTER = 'A,.:-¨@*¿?!'
  for (const [text, secret] of [
    [`password = "${WHITES}"`, WHITES],
    [`password_super_secure = "${WHITES}"`, WHITES],
    [`apikey = ${COMMON}`, COMMON],
    [`api_key: '${WHITES}'`, WHITES],
    [`aws_secret_access_key: ${WHITES}`, WHITES],
    [`db_pass: ${COMMON},`, COMMON],
    [`passwd: ${COMMON}\``, COMMON],
    [`private_key: ${COMMON}"`, COMMON],
    [`if (apikey == "${COMMON}") {`, COMMON],
    [`if (db_pass !== "${COMMON}") {`, COMMON],
    [`if ("${COMMON}" == password) {`, COMMON],
    [`if ("${COMMON}" != passwd) {`, COMMON],
    [`if ("${COMMON}" === private_key) {`, COMMON],
    [`apikey := "${COMMON}"`, COMMON],
    [`aws_secret_access_key := \`${COMMON}\``, COMMON],
    [`db_pass := ${COMMON}`, COMMON],
    [`password "${COMMON}";`, COMMON],
    [`password = @"${COMMON}";`, COMMON],
    [`my_password_secure = @"${COMMON}";`, COMMON],
    [`char secret[25] = "${COMMON}";`, COMMON],
    [`std::string secret("${COMMON}");`, COMMON],
    [`password => "${COMMON}"`, COMMON],
    [`secret = ${LETTER}`, LETTER],
  ] as const) {
    pos('secret-assignment', text, secret, DS)
  }
  for (const text of [
    'password = ,.:-¨@*¿?!',
    'api_key = ""',
    "secret: ''",
    'password = "somefakekey"',
    'password: ${link}',
    'some_key = "real_secret"',
    'password => ""',
    'password[] = ${link}',
  ]) {
    neg('secret-assignment', text, DS)
  }
  for (const [text, secret] of [
    ['password = "super$ecret"', 'super$ecret'],
    ['my_password := "super$ecret"', 'super$ecret'],
    ['password   =>   "super$ecret"', 'super$ecret'],
    ['"ApplicationServicesConnection" : {\n    "ServiceAddress" : "https://services-dev.examples.com",\n    "AdminPassword" : "thisismypassword"\n}', 'thisismypassword'],
    ["hostname = '10.11.12.13'\nUSERNAME = 'donjuandemarco@example.com'\nPASS = '`123QWERasdf'", '`123QWERasdf'],
    ['[HELP_CLIENT]\nAUTO_SESSION_USERNAME=myusername\nAUTO_SESSION_PASSWORD=mypassword', 'mypassword'],
    ["user = 'Aladdin'\npassword = 'open sesame'", 'open sesame'],
    ['user = Aladdin\npassword = open_sesame', 'open_sesame'],
    ['    private static String CLIENT_SECRET = "6fb1cff7690db9ac066cadbbde8e3c078efdabcf";', '6fb1cff7690db9ac066cadbbde8e3c078efdabcf'],
    ['API_KEY = "951bc382db9abad29c68634761dd6e19"', '951bc382db9abad29c68634761dd6e19'],
    ['jwt:\n  secret: "acb1ca5bc8d7fb2ef9f890f1be16d964" #some comment', 'acb1ca5bc8d7fb2ef9f890f1be16d964'],
  ] as const) {
    pos('secret-assignment', text, secret, `${NP}/generic.yml`)
  }
  neg('secret-assignment', 'USERNAME=donjuan\nPASSWORD=$($(dirname $0)/../bin/get-django-setting LOCAL_DATABASE_PASSWORD)', `${NP}/generic.yml`)
  neg('secret-assignment', 'username = env.PERKEEP_TEST_USERNAME\npassword = env.PERKEEP_TEST_PASSWORD', `${NP}/generic.yml`)
  neg('secret-assignment', '  string backend_pass = "XXXXXXXXXXXXX";', `${NP}/generic.yml`)
  neg('secret-assignment', 'name="ws_plugin__s2member_amazon_s3_comp_files_access_key" id="ws-plugin--s2member-amazon-s3-comp-files-access-key"', `${NP}/generic.yml`)
  // The forms issue 18 lists, with values made here.
  const made = (): string => `${pick(ALNUM, 10)}-${pick(ALNUM, 8)}`
  for (const [kind, make] of [
    ['secret-assignment', (v: string) => `dbPassword := "${v}"`],
    ['secret-assignment', (v: string) => `MYSQL_PWD=${v} mysql -u root`],
    ['secret-assignment', (v: string) => `PASS=${v}`],
    ['secret-assignment', (v: string) => `otp: ${v}`],
    ['secret-assignment', (v: string) => `two_factor = "${v}"`],
    ['secret-assignment', (v: string) => `AccountKey: "${v}"`],
    ['secret-assignment', (v: string) => `{"password": {"$eq": "${v}"}}`],
    ['secret-assignment', (v: string) => `password:\n  ${v}`],
    ['secret-assignment', (v: string) => `<password>${v}</password>`],
    ['secret-assignment', (v: string) => `$config['db_password'] = '${v}';`],
    ['secret-assignment', (v: string) => `{:api_key => "${v}"}`],
    ['secret-assignment', (v: string) => `token <- "${v}"`],
    ['secret-assignment', (v: string) => `var secretToken string = "${v}"`],
  ] as const) {
    const v = made()
    pos(kind, make(v), v, `${GITLEAKS_FORMS}; issue 18's forms (value made here)`)
  }
  for (const text of [
    'LLM_SECRET_NAME=openai-prod',
    'secret_length=32',
    'credentialsId: jenkins-deploy',
    'passwordLabel="Enter your password"',
    'token_url: https://oauth2.example.com/token',
    'password_required=true',
    'Bearer XXXXXXXXXXXX',
    'Authorization: Bearer $API_KEY',
    '//registry.npmjs.org/:_authToken=${NPM_TOKEN}',
    'password: {{ .Values.db.password }}',
    'api_key = os.environ["API_KEY"]',
    'secret: ${{ secrets.DEPLOY_KEY }}',
    'PWD=/srv/app',
    'password = get_password()',
    'token: <your token here>',
    'password: your_password_here',
  ]) {
    neg('secret-assignment', text, 'issue 18: false positives by class (key names, placeholders and variables)')
  }

  // ---- URLs ----
  pos('url-credentials', 'dsn postgres://app:p@ss:w0rd@db.internal:5432/orders', 'app:p@ss:w0rd', 'made here: a DSN whose password holds @ and :')
  neg('url-credentials', 'DATABASE_URL=postgres://app:${DB_PASSWORD}@db.internal:5432/app', 'issue 18: variables left whole')

  // ---- PII: Presidio ----
  for (const [text, secret] of [
    ['078-05-1123', '078-05-1123'],
    ['078.05.1123', '078.05.1123'],
    ['078 05 1123', '078 05 1123'],
    ['abc 078 05 1123 abc', '078 05 1123'],
    ['ssn: 078051121', '078051121'],
  ] as const) {
    pos('us-ssn', text, secret, `${PRESIDIO}/test_us_ssn_recognizer.py`)
  }
  for (const text of ['0780511201', '078051120', '000000000', '666000000', '078-05-0000', '078 00 1123', '693-09.4444']) {
    neg('us-ssn', text, `${PRESIDIO}/test_us_ssn_recognizer.py`)
  }
  for (const [text, secret] of [
    ['My MAC address is 00:1A:2B:3C:4D:5E', '00:1A:2B:3C:4D:5E'],
    ['Device MAC: AA:BB:CC:DD:EE:FF', 'AA:BB:CC:DD:EE:FF'],
    ['Lowercase MAC: 0a:23:f5:67:89:ac', '0a:23:f5:67:89:ac'],
    ['My MAC address is 00-1A-2B-3C-4D-5E', '00-1A-2B-3C-4D-5E'],
    ['Mixedcase MAC: 0d-B3-4a-6A-d9-cF', '0d-B3-4a-6A-d9-cF'],
    ['Cisco MAC: 0012.3456.789A', '0012.3456.789A'],
    ['Physical address is aabb.ccdd.eeff', 'aabb.ccdd.eeff'],
  ] as const) {
    pos('mac-address', text, secret, `${PRESIDIO}/test_mac_recognizer.py`)
  }
  for (const text of [
    'Not a MAC: 00:1A:2B:3C:4D',
    'Invalid: ZZ:ZZ:ZZ:ZZ:ZZ:ZZ',
    'Broadcast: FF:FF:FF:FF:FF:FF',
    'Invalid: 00:00:00:00:00:00',
    'Mixed test cases for hyphens and colons: 10:2F:33-AC-29-C3',
  ]) {
    neg('mac-address', text, `${PRESIDIO}/test_mac_recognizer.py`)
  }
  for (const [text, secret] of [
    ['My US number is (415) 555-0132, and my international one is +1 415 555 0132', '(415) 555-0132'],
    ['My US number is (415) 555-0132, and my international one is +1 415 555 0132', '+1 415 555 0132'],
    ['My Israeli number is 09-7625400', '09-7625400'],
    ['_: (415)555-0132', '(415)555-0132'],
    ['US: 415-555-0132', '415-555-0132'],
    ['Brazil: +55 11 98456 5666', '+55 11 98456 5666'],
    ['My Japanese number is 090-1234-5678', '090-1234-5678'],
    ['My CN number is 13812345678', '13812345678'],
    ['my international one is +44 (20) 7123 4567', '+44 (20) 7123 4567'],
    ['my international one is +91 4155550132', '+91 4155550132'],
    ['my international one is +49 30 1234567', '+49 30 1234567'],
    ['my international one is +39 06 678 4343', '+39 06 678 4343'],
    ['my international one is +33 1 42 68 53 00', '+33 1 42 68 53 00'],
  ] as const) {
    pos('phone-number', text, secret, `${PRESIDIO}/test_phone_recognizer.py`)
  }
  for (const [text, secret] of [
    ['info@presidio.site', 'info@presidio.site'],
    ['user@xn--80ak6aa92e.com', 'user@xn--80ak6aa92e.com'],
    ['a@xn--d1acufc.xn--p1ai', 'a@xn--d1acufc.xn--p1ai'],
  ] as const) {
    pos('email', text, secret, `${PRESIDIO}/test_email_recognizer.py`)
  }
  neg('email', 'my email is info@presidio.', `${PRESIDIO}/test_email_recognizer.py`)
  neg('email', 'this is not an email: hello-world here', `${PRESIDIO}/test_email_recognizer.py`)
  pos('iban', 'pay DE89-3704-0044-0532-0130-00 today', 'DE89-3704-0044-0532-0130-00', 'issue 18: dash-grouped IBANs (the IBAN registry example, DE)')
  pos('iban', 'GB82 WEST 1234 5698 7654 32', 'GB82 WEST 1234 5698 7654 32', 'the IBAN registry example, GB')
  // Metadata that must stay readable: what flows log.
  for (const text of [
    '2026-11-21T10:30:45.123Z INFO loaded 120384 rows in 5321ms from orders/2026/11/21/part-7.parquet',
    'run 550e8400-e29b-41d4-a716-446655440000 retried 3 times, version 1.2.3',
    'released v2.14.0 on 2026-11-21 with build 20261121.4',
    'listening on port 8080, pid 48213, uptime 123456789 ms',
  ]) {
    neg('metadata', text, 'made here: log metadata that must stay readable')
  }

  // Cases whose secret is the first token-shaped run after a prefix: fill them in.
  for (const c of positives) {
    if (c.secret !== '') continue
    const m = /(?:AKIA|ASIA|GR1348941|glrt-|glpat-|glcbt-|rk_live_|sk_prod_)[A-Za-z0-9_.-]+/.exec(c.text)!
    ;(c as { secret: string }).secret = m[0].replace(/"$/, '')
  }
  return { positives, negatives }
}
