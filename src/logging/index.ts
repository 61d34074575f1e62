// airlock-sdk/logging: the pino logger whose records ship through the door,
// for use without an Airlock (an Airlock's own is `airlock.logger`).

export { createLogger, type CreateLoggerOptions } from './create-logger.js'
export { SHIP_FAILED_WARNING } from './record-shipper.js'
export { closeLogger, flushLogger, localOutputStats } from './local-output.js'
export { SCRUB_THREAD_FAILED_WARNING, type LocalOutputStats } from './scrub-thread.js'
export { wrapPinoLogger } from './wrap-pino-logger.js'
export { createShippingDestination, type ShippingDestinationOptions } from './create-shipping-destination.js'
export type { ShippedRecord, ShipRecord } from './shipped-record.js'
