// Errors the server answers with, and the two JSON shapes they take on the wire:
//   OpenAI routes (/v1/…):  { "error": { "message", "type", "param", "code" } }
//   TEI and our routes:      { "error": "message", "error_type": "Validation" | … }
// An ApiError carries the HTTP status, a TEI error type and (for OpenAI) the parameter at fault.

export type TeiErrorType = 'Validation' | 'Tokenizer' | 'Backend' | 'Overloaded' | 'Unhealthy' | 'Empty' | 'NotFound' | 'Unauthorized';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly teiType: TeiErrorType = 'Validation',
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** 400: the request is malformed (wrong type, missing field, empty input). */
export function badRequest(message: string, param: string | null = null): ApiError {
  return new ApiError(400, message, param === null ? 'Empty' : 'Validation', param);
}

/** 413: the request is over one of the server's limits. */
export function tooLarge(message: string, param: string | null = null): ApiError {
  return new ApiError(413, message, 'Validation', param);
}

const OPENAI_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  404: 'not_found_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  422: 'invalid_request_error',
  429: 'rate_limit_exceeded',
  500: 'server_error',
  503: 'server_error',
};

/** The error body for a route: OpenAI's shape under /v1/, TEI's elsewhere. */
export function errorBody(url: string, e: ApiError): object {
  if (url.startsWith('/v1/') || url === '/v1') {
    return {
      error: {
        message: e.message,
        type: OPENAI_TYPES[e.status] ?? (e.status >= 500 ? 'server_error' : 'invalid_request_error'),
        param: e.param,
        code: e.status === 429 ? 'rate_limit_exceeded' : e.status === 401 ? 'invalid_api_key' : null,
      },
    };
  }
  return { error: e.message, error_type: e.teiType };
}
