// Operations the deep models use in place of TensorFlow.js's own where a backend is slow at them.
import type * as TF from '@tensorflow/tfjs';
import type { Tf } from './backend.js';

const cache = new WeakMap<Tf, (a: TF.Tensor, b: TF.Tensor) => TF.Tensor2D>();

/**
 * a (m x k) times b (k x n), with a gradient made of untransposed products: dA = dY (b^T), dB = (a^T) dY, the
 * transposes materialised first. The wasm backend multiplies transposed operands on a slow path (15x slower
 * than an untransposed product of the same size, measured on 500 x 600 x 1682); tfjs's own gradient of matMul
 * uses exactly those, so every backward pass through a dense layer would take it.
 * @internal
 */
export function matMul(tf: Tf, a: TF.Tensor, b: TF.Tensor): TF.Tensor2D {
  let f = cache.get(tf);
  if (!f) {
    f = tf.customGrad(((x: TF.Tensor, y: TF.Tensor, save: TF.GradSaveFunc) => {
      save([x, y]);
      return {
        value: tf.matMul(x as TF.Tensor2D, y as TF.Tensor2D),
        gradFunc: (dy: TF.Tensor, saved: TF.Tensor[]) => [
          tf.matMul(dy as TF.Tensor2D, tf.transpose(saved[1]! as TF.Tensor2D)),
          tf.matMul(tf.transpose(saved[0]! as TF.Tensor2D), dy as TF.Tensor2D),
        ],
      };
    }) as unknown as Parameters<Tf['customGrad']>[0]) as unknown as (a: TF.Tensor, b: TF.Tensor) => TF.Tensor2D;
    cache.set(tf, f);
  }
  return f(a, b);
}

/** @internal a times b^T without the slow transposed path (b^T materialised). */
export function matMulT(tf: Tf, a: TF.Tensor, b: TF.Tensor): TF.Tensor2D {
  return tf.matMul(a as TF.Tensor2D, tf.transpose(b as TF.Tensor2D));
}
