#ifndef FATHOM_ATTRS_TD
#define FATHOM_ATTRS_TD

include "FathomDialect.td"
include "mlir/IR/EnumAttr.td"

// Storage and compute element types. Names follow the safetensors spellings, lower-cased.
def Fathom_DType : I32EnumAttr<"DType", "element type of stored or computed tensors", [
    I32EnumAttrCase<"f32", 0>,
    I32EnumAttrCase<"f16", 1>,
    I32EnumAttrCase<"bf16", 2>,
    I32EnumAttrCase<"f8e4m3", 3>,
    I32EnumAttrCase<"f8e5m2", 4>,
    I32EnumAttrCase<"i64", 5>,
    I32EnumAttrCase<"i32", 6>,
    I32EnumAttrCase<"i8", 7>,
    // Packed unsigned 4-bit codes (`ui4`): INT4 weights and their zero points.
    I32EnumAttrCase<"u4", 8>,
  ]> {
  let cppNamespace = "::mlir::fathom";
  let genSpecializedAttr = 0;
}

def Fathom_DTypeAttr : EnumAttr<Fathom_Dialect, Fathom_DType, "dtype"> {
  let assemblyFormat = "`<` $value `>`";
}

def Fathom_RopeScaling : I32EnumAttr<"RopeScaling", "rotary embedding frequency scaling", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"linear", 1>,
    I32EnumAttrCase<"yarn", 2>,
    I32EnumAttrCase<"llama3", 3>,
    I32EnumAttrCase<"longrope", 4>,
  ]> {
  let cppNamespace = "::mlir::fathom";
}

def Fathom_RouterScoring : I32EnumAttr<"RouterScoring", "how router logits become scores", [
    I32EnumAttrCase<"sigmoid", 0>,
    I32EnumAttrCase<"softmax", 1>,
  ]> {
  let cppNamespace = "::mlir::fathom";
  let genSpecializedAttr = 0;
}

def Fathom_RouterScoringAttr : EnumAttr<Fathom_Dialect, Fathom_RouterScoring, "scoring"> {
  let assemblyFormat = "`<` $value `>`";
}

def Fathom_RopeMode : I32EnumAttr<"RopeMode", "how a rotary embedding pairs and rounds", [
    I32EnumAttrCase<"rotate_half", 0>,
    I32EnumAttrCase<"interleaved", 1>,
    I32EnumAttrCase<"complex", 2>,
    I32EnumAttrCase<"complex_halves", 3>,
  ]> {
  let cppNamespace = "::mlir::fathom";
  let genSpecializedAttr = 0;
}

def Fathom_RopeModeAttr : EnumAttr<Fathom_Dialect, Fathom_RopeMode, "rope_mode"> {
  let assemblyFormat = "`<` $value `>`";
}

def Fathom_GeluApproximation : I32EnumAttr<"GeluApproximation", "which GELU formula", [
    I32EnumAttrCase<"erf", 0>,
    I32EnumAttrCase<"tanh", 1>,
    I32EnumAttrCase<"tanh_unfused", 2>,
  ]> {
  let cppNamespace = "::mlir::fathom";
  let genSpecializedAttr = 0;
}

def Fathom_GeluApproximationAttr : EnumAttr<Fathom_Dialect, Fathom_GeluApproximation,
                                            "gelu_approximation"> {
  let assemblyFormat = "`<` $value `>`";
}

def Fathom_CombineOrder : I32EnumAttr<"CombineOrder", "summation order of routed expert outputs", [
    I32EnumAttrCase<"eager", 0>,
    I32EnumAttrCase<"grouped", 1>,
  ]> {
  let cppNamespace = "::mlir::fathom";
  let genSpecializedAttr = 0;
}

def Fathom_CombineOrderAttr : EnumAttr<Fathom_Dialect, Fathom_CombineOrder, "combine_order"> {
  let assemblyFormat = "`<` $value `>`";
}

def Fathom_TablePart : I32EnumAttr<"TablePart", "which rotary table", [
    I32EnumAttrCase<"cos", 0>,
    I32EnumAttrCase<"sin", 1>,
  ]> {
  let cppNamespace = "::mlir::fathom";
  let genSpecializedAttr = 0;
}

def Fathom_TablePartAttr : EnumAttr<Fathom_Dialect, Fathom_TablePart, "table_part"> {
  let assemblyFormat = "`<` $value `>`";
}

def Fathom_BlockQuantAttr : Fathom_Attr<"BlockQuant", "block_quant"> {
  let summary = "block-wise quantization of a weight with one fp32 scale per block";
  let description = [{
    The weight is stored in `storage` and each `rows x cols` block carries one fp32 scale.
    Edge blocks are partial, so the scale tensor has ceil(M/rows) x ceil(N/cols) entries (per
    stacked matrix).

    - f8e4m3 / f8e5m2 (DeepSeek's FP8 format, 128 x 128 blocks): dequantized = stored * scale.
    - u4 (INT4 weight-only, asymmetric, 1 x 128 groups along the input dimension): each block
      also has a u4 zero point, the param's `zero`; dequantized = (stored - zero) * scale.

    Example: `#fathom.block_quant<storage = f8e4m3, rows = 128, cols = 128>`
  }];
  let parameters = (ins "::mlir::fathom::DType":$storage, "int64_t":$rows, "int64_t":$cols);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Fathom_RopeAttr : Fathom_Attr<"Rope", "rope"> {
  let summary = "rotary position embedding parameters";
  let description = [{
    Everything needed to compute the cos/sin tables at compile time: base `theta`, rotary
    `dim`, the frequency scaling
    (none, linear, YaRN with its factor, original context, beta range and whether the
    correction range is truncated to whole dimensions, or Llama 3.1's with its factor,
    original context and low/high frequency factors) and the factor that multiplies cos and
    sin (YaRN's mscale ratio, longrope's sqrt(1 + ln(factor) / ln(original))). longrope divides
    each default frequency by its own `divisors` entry (HF's short_factor, dim / 2 of them).
    The low/high frequency factors and the divisors are printed only where they are set.

    Example: `#fathom.rope<theta = 10000.0, dim = 64, scaling = yarn,
    factor = 40.0, original_max_positions = 4096, beta_fast = 32.0, beta_slow = 1.0,
    attention_factor = 1.0, truncate = true>`
  }];
  let parameters = (ins APFloatParameter<"">:$theta, "int64_t":$dim,
                        "::mlir::fathom::RopeScaling":$scaling, APFloatParameter<"">:$factor,
                        "int64_t":$original_max_positions, APFloatParameter<"">:$beta_fast,
                        APFloatParameter<"">:$beta_slow, APFloatParameter<"">:$attention_factor,
                        "bool":$truncate,
                        DefaultValuedParameter<"::llvm::APFloat", "::llvm::APFloat(0.0)">:
                            $low_freq_factor,
                        DefaultValuedParameter<"::llvm::APFloat", "::llvm::APFloat(0.0)">:
                            $high_freq_factor,
                        OptionalParameter<"::mlir::DenseF32ArrayAttr">:$divisors);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // FATHOM_ATTRS_TD
