// airlock-sdk/results: Result and its backends, location templates,
// serializers. The root export keeps the Result classes and serializers.

export { Result, type ResultOptions, type ResultJSON, type ByteSource, type Carried, type Located } from './result.js'
export { LocalResult, type LocalResultOptions } from './local-result.js'
export { JSONResult, type JSONResultOptions } from './json-result.js'
export { ConstantResult } from './constant-result.js'
export { SecretResult } from './secret-result.js'
export { S3Result, type S3ResultOptions, type S3UploadOptions } from './s3-result.js'
export { GCSResult, type GCSResultOptions } from './gcs-result.js'
export { AzureResult, type AzureResultOptions } from './azure-result.js'
export { LocationTemplate, type TemplateContext } from './location-template.js'
export type { Serializer } from './serializer.js'
export { JSONSerializer } from './json-serializer.js'
export { StructuredSerializer } from './structured-serializer.js'
export { CompressedSerializer, type Compression } from './compressed-serializer.js'
export { DateTimeSerializer } from './date-time-serializer.js'
export { PayloadFrame } from './payload-frame.js'
export type { PayloadSealer } from './payload-cipher-seam.js'
