/**
 * The nesting depth of an ONNX protobuf, measured on the wire format before any decoder sees it.
 * protobuf decoders recurse once per nested message, so a crafted file (graphs inside attributes
 * inside graphs, or TypeProto inside TypeProto) could exhaust the stack; this walk uses its own
 * stack and the ONNX schema to know which length-delimited fields are messages. Malformed input
 * ends the walk quietly: the real decoder reports it.
 */
import protobuf from 'protobufjs';
import { messageType } from '../../importers/onnx/proto.js';

interface Frame {
  type: protobuf.Type;
  end: number;
}

/** True when a message in `bytes` (a `rootName` message) is nested more than `max` levels deep. */
export function protobufDepthExceeds(bytes: Uint8Array, max: number, rootName = 'ModelProto'): boolean {
  const stack: Frame[] = [{ type: messageType(rootName as 'ModelProto'), end: bytes.length }];
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    while (pos < bytes.length) {
      const b = bytes[pos++]!;
      if (shift < 49) result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      shift += 7;
      if (shift > 63) return -1;
    }
    return -1;
  };
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    if (pos >= top.end) {
      stack.pop();
      continue;
    }
    const tag = varint();
    if (tag < 0) return false;
    const wire = tag % 8;
    const field = tag >= 8 ? top.type.fieldsById[Math.floor(tag / 8)] : undefined;
    switch (wire) {
      case 0:
        if (varint() < 0) return false;
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        const len = varint();
        if (len < 0 || pos + len > top.end) return false;
        const nested = field?.resolvedType;
        if (nested instanceof protobuf.Type) {
          if (stack.length + 1 > max) return true;
          stack.push({ type: nested, end: pos + len });
        } else pos += len;
        break;
      }
      default:
        // Groups (3, 4) and invalid wire types: not ONNX; leave it to the decoder.
        return false;
    }
  }
  return false;
}
