/**
 * Status code names as go-grpc-prometheus writes them in `grpc_code` (Go's `codes.Code.String()`), so the
 * dashboards and alerts written for the standard gRPC server series work unchanged: `OK`, `Canceled`,
 * `ResourceExhausted`, not grpc-js's `CANCELLED`, `RESOURCE_EXHAUSTED`.
 */
export const GRPC_CODE_NAMES: readonly string[] = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

/** The `grpc_code` of a numeric status code; one outside the 17 is named as Go names it, `Code(17)`. */
export function grpcCodeName(code: number): string {
  return GRPC_CODE_NAMES[code] ?? `Code(${code})`;
}
