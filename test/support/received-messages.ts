import { type ChannelOptions, Client, credentials, Metadata } from '@grpc/grpc-js';
import { VoxelFeedService } from '../../gen/voxelfeed/v1/voxelfeed.js';

/** A message as the client's gRPC library handed it to the deserializer, and what the decoder made of it. */
export interface ReceivedMessage<T> {
  readonly bytes: Buffer;
  readonly decoded: T;
}

type TensorMethod = 'streamBatches' | 'streamTiles' | 'getSample';

/**
 * A grpc-js client that keeps the buffer of every message it receives beside the decoded value, so a test can
 * tell whether a decoder's tensors view that buffer or a copy (feed-service.ts decodes them the same way).
 */
export class RecordingClient {
  private readonly client: Client;

  constructor(address: string, options: ChannelOptions = {}) {
    this.client = new Client(address, credentials.createInsecure(), options);
  }

  /** Every message of a server-streaming call, in order; rejects with the call's error. */
  stream<Request, T>(
    method: Exclude<TensorMethod, 'getSample'>,
    request: Request,
    decode: (bytes: Uint8Array) => T,
  ): Promise<Array<ReceivedMessage<T>>> {
    const { path, requestSerialize } = VoxelFeedService[method];
    const serialize = requestSerialize as (value: Request) => Buffer;
    return new Promise((resolve, reject) => {
      const messages: Array<ReceivedMessage<T>> = [];
      const call = this.client.makeServerStreamRequest(
        path,
        serialize,
        (bytes: Buffer) => ({ bytes, decoded: decode(bytes) }),
        request,
        new Metadata(),
      );
      call.on('data', (message: ReceivedMessage<T>) => messages.push(message));
      call.on('error', reject);
      call.on('end', () => resolve(messages));
    });
  }

  /** The answer of a unary call. */
  unary<Request, T>(
    method: 'getSample',
    request: Request,
    decode: (bytes: Uint8Array) => T,
  ): Promise<ReceivedMessage<T>> {
    const { path, requestSerialize } = VoxelFeedService[method];
    const serialize = requestSerialize as (value: Request) => Buffer;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        path,
        serialize,
        (bytes: Buffer) => ({ bytes, decoded: decode(bytes) }),
        request,
        (error, message) => (error || message === undefined ? reject(error) : resolve(message)),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
