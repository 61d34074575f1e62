import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3'

/**
 * s3rver 3.7 predates S3's conditional writes (2024) and ignores
 * `If-None-Match: *` on PutObject and CompleteMultipartUpload. This proxy
 * adds them in front of it, as S3 answers them: 412 `PreconditionFailed`
 * when the key already holds an object. It checks with a HeadObject, so
 * unlike S3 it is not atomic: a race between two writers is not tested
 * against it. Everything else goes through unchanged.
 */
export async function conditionalWritesProxy(target: string, s3: S3Client): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', target)
    const conditional = req.headers['if-none-match'] === '*' && (req.method === 'PUT' || req.method === 'POST') && !url.searchParams.has('partNumber')
    const forward = (): void => {
      const upstream = request(url, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
      upstream.on('error', () => res.destroy())
      req.pipe(upstream)
    }
    if (!conditional) return forward()
    const [, bucket, ...key] = url.pathname.split('/')
    s3.send(new HeadObjectCommand({ Bucket: decodeURIComponent(bucket ?? ''), Key: key.map(decodeURIComponent).join('/') })).then(
      () => {
        req.resume()
        res.writeHead(412, { 'content-type': 'application/xml' })
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>')
      },
      forward,
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
