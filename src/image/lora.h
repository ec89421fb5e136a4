// LoRA: merges low-rank adapters in the community (kohya) safetensors naming
// into an SdCheckpoint's UNet and CLIP text encoder weights.
//
// A LoRA module is named by the checkpoint path of the weight it adapts, '.'
// replaced by '_', behind "lora_unet_" (ldm path "input_blocks_1_1_proj_in",
// or diffusers path "down_blocks_0_attentions_0_proj_in") or "lora_te_"
// ("text_model_encoder_layers_0_self_attn_q_proj"). Each has
//   <module>.lora_down.weight  [rank, in] (linear) or [rank, in, kh, kw] (conv, LoCon)
//   <module>.lora_up.weight    [out, rank] or [out, rank, 1, 1]
//   <module>.alpha             scalar, optional (default: rank)
// and changes the weight W [out, in(, kh, kw)] into
//   W' = W + strength * (alpha / rank) * up @ down      (flattened to [out, rank] @ [rank, in*kh*kw])
// The merge runs in F32 over all LoRAs at once (in the order given) and is
// rounded once into an owned copy in W's stored dtype (WeightStore::add_owned);
// the original file is not touched. Results do not depend on the thread count.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/status.h"

namespace aigc {

class SdCheckpoint;

struct LoraSpec {
  std::string path;
  float strength = 1;
};

// What one LoRA file did.
struct LoraReport {
  std::string path;
  size_t n_modules = 0;                        // modules merged
  size_t n_unmatched_keys = 0;                 // tensors that name no weight of the checkpoint
  std::vector<std::string> unmatched_examples;  // the first few of them
};

// Merges `loras` into `ckpt`. A file none of whose keys matches a weight is
// an InvalidArgument naming the file and a few keys; a file that partly
// matches is merged and its unmatched keys counted in `reports` (one entry
// per LoRA, if not null) for the caller to warn about. LyCORIS LoHa/LoKr/
// Tucker and DoRA tensors are Unsupported (merging without them would be
// wrong). Mis-shaped or incomplete modules are errors naming the file, the
// module and the shapes; on error nothing has been changed.
Status apply_loras(SdCheckpoint& ckpt, const std::vector<LoraSpec>& loras, std::vector<LoraReport>* reports = nullptr);

}  // namespace aigc
