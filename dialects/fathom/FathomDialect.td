#ifndef FATHOM_DIALECT_TD
#define FATHOM_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Fathom_Dialect : Dialect {
  let name = "fathom";
  let cppNamespace = "::mlir::fathom";
  let summary = "Model-level tensor ops for DeepSeek-family networks";
  let description = [{
    The `fathom` dialect describes a whole model at the level a person reads it: embedding
    lookup, RMSNorm, linear projections, rotary embeddings, attention, gated MLPs and the LM
    head. Weights never live in the IR as constants: a `fathom.param` symbol names a checkpoint
    tensor (its type says what the compiled artifact stores) and ops refer to weights by symbol.
    Activations are ordinary builtin tensors with dynamic batch and sequence dimensions.
  }];
  let useDefaultAttributePrinterParser = 1;
}

class Fathom_Op<string mnemonic, list<Trait> traits = []>
    : Op<Fathom_Dialect, mnemonic, traits>;

class Fathom_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Fathom_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

#endif // FATHOM_DIALECT_TD
