/**
 * Structured logs (pino, one JSON object per line) and the request id. Every request gets an id,
 * taken from a well-formed incoming `X-Request-Id` (a load balancer's) or made here, returned in
 * the `X-Request-Id` response header and written on each log line about that request. Logs never
 * hold tensor data, request bodies, headers or tokens: the access line lists chosen fields only,
 * and the redaction list catches anything that names a token or an authorization header.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const REQUEST_ID_HEADER = 'X-Request-Id';
const INCOMING_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Paths pino censors wherever they appear in a log object. */
export const REDACT = [
  'authorization',
  'token',
  'tokens',
  'headers.authorization',
  'req.headers.authorization',
  '*.authorization',
  '*.token',
  '*.tokens',
];

export interface LoggerSettings {
  level?: LogLevel;
  /** Where lines go (default: stdout). */
  write?: (line: string) => void;
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: { service: 'tessera', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT, censor: '[redacted]' },
  };
  const dest: DestinationStream = settings.write
    ? { write: (s: string) => settings.write!(s.endsWith('\n') ? s.slice(0, -1) : s) }
    : pino.destination({ fd: 1, sync: true });
  return pino(options, dest);
}

/** A logger that writes nothing (tests, embedded use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

declare global {
  namespace Express {
    interface Locals {
      /** This request's id (X-Request-Id). */
      requestId: string;
      /** Who is asking: `token:<fingerprint>` when authenticated, else the client address. */
      principal: string;
    }
  }
}

/**
 * Assigns the request id and writes one access line when the response ends (or the client goes):
 * successes at debug, client errors at info, server errors at error, so a default (info) log
 * holds the problems and the lifecycle, and `--log-level debug` every request.
 */
export function requestLogging(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get(REQUEST_ID_HEADER);
    const id = incoming && INCOMING_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.locals.principal = req.ip ?? 'unknown';
    res.setHeader(REQUEST_ID_HEADER, id);
    const started = process.hrtime.bigint();
    const done = () => {
      const aborted = !res.writableFinished;
      const status = aborted ? 499 : res.statusCode;
      const level = status >= 500 ? 'error' : status >= 400 ? 'info' : 'debug';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          reqId: id,
          method: req.method,
          path: req.path,
          status,
          ms: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
          bytesIn: Number(req.get('content-length') ?? 0),
          client: res.locals.principal,
          ...(res.locals.errorMessage ? { err: res.locals.errorMessage } : {}),
        },
        aborted ? 'request aborted by the client' : 'request',
      );
    };
    // 'close' follows 'finish' on a completed response, and also fires when the client goes away.
    res.once('close', done);
    next();
  };
}

declare global {
  namespace Express {
    interface Locals {
      /** The error message sent to the client, for the access line. */
      errorMessage?: string;
    }
  }
}
