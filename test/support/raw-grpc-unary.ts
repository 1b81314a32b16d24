import { once } from 'node:events';
import { connect, type IncomingHttpHeaders } from 'node:http2';

/**
 * One unary gRPC call over a bare HTTP/2 connection, as a client of another gRPC library makes it (its own
 * `user-agent`), answering the response message in an ArrayBuffer of its own at byte 0, where grpcio puts it.
 */
export async function rawGrpcUnary(
  address: string,
  path: string,
  request: Uint8Array,
  userAgent: string,
): Promise<Uint8Array> {
  const session = connect(`http://${address}`);
  session.on('error', () => {});
  try {
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': userAgent,
    });
    const frame = Buffer.alloc(5 + request.byteLength);
    frame.writeUInt32BE(request.byteLength, 1);
    frame.set(request, 5);
    stream.end(frame);
    const chunks: Buffer[] = [];
    let trailers: IncomingHttpHeaders = {};
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('trailers', (headers: IncomingHttpHeaders) => {
      trailers = headers;
    });
    await once(stream, 'end');
    if (trailers['grpc-status'] !== '0') {
      throw new Error(
        `${path} ended with grpc-status ${trailers['grpc-status']}: ${trailers['grpc-message']}`,
      );
    }
    const body = Buffer.concat(chunks);
    const length = body.readUInt32BE(1);
    if (body[0] !== 0 || body.length !== 5 + length) {
      throw new Error(`${path} answered ${body.length} bytes, not one uncompressed message of ${length}`);
    }
    const message = new Uint8Array(length);
    message.set(body.subarray(5));
    return message;
  } finally {
    session.close();
  }
}
