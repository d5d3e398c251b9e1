/** If: runs then_branch or else_branch (subgraphs that see the enclosing scope) on a bool condition. */
import { isTensorValue, TensorSequence } from '../../runtime/graph.js';
import { registerOp } from '../registry.js';
import { graphAttr, subgraphRuntime } from './runtime.js';
import { asOutputs, scalarOf, tensorInput } from './values.js';

registerOp({
  name: 'If',
  since: 1,
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const cond = scalarOf(tensorInput(inputs, 0, 'If', 'cond'), 'If', 'cond') !== 0;
      const branch = cond ? 'then_branch' : 'else_branch';
      const outs = subgraphRuntime(ctx).runSubgraph(graphAttr(attrs, branch, 'If'), [], `If ${branch}`);
      // A branch may return an outer value as is: give the node its own tensor objects.
      return asOutputs(
        outs.map((v) =>
          isTensorValue(v)
            ? v.asStrided(v.shape, v.strides)
            : v instanceof TensorSequence
              ? new TensorSequence(v.items, v.dtype)
              : v,
        ),
      );
    },
  },
});
