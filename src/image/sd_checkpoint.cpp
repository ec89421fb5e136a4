// SdCheckpoint: opens SD 1.x single-file and diffusers checkpoints into
// three WeightStores under the ldm names, refusing pickles and other families.
#include "image/sd_checkpoint.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>

#include <nlohmann/json.hpp>

#include "formats/safetensors.h"
#include "image/diffusers_names.h"

namespace aigc {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kUnetPrefix = "model.diffusion_model.";
constexpr std::string_view kVaePrefix = "first_stage_model.";
constexpr std::string_view kTextPrefix = "cond_stage_model.transformer.";

// New name of a tensor in its store, or nullopt to leave it out.
using Rename = std::function<std::optional<std::string>(std::string_view)>;

Rename strip_prefix(std::string_view prefix) {
  return [prefix](std::string_view name) -> std::optional<std::string> {
    if (!name.starts_with(prefix)) return std::nullopt;
    return std::string(name.substr(prefix.size()));
  };
}

// The CLIP text model under `prefix`, in "text_model.*" names (the older
// layout lacks "text_model."); the position_ids buffer is left out.
Rename text_encoder_names(std::string_view prefix) {
  return [prefix](std::string_view name) -> std::optional<std::string> {
    if (!name.starts_with(prefix)) return std::nullopt;
    std::string rest(name.substr(prefix.size()));
    if (!rest.starts_with("text_model.")) rest = "text_model." + rest;
    if (rest == "text_model.embeddings.position_ids") return std::nullopt;
    return rest;
  };
}

bool is_integer_dtype(const std::string& dtype) {
  return dtype.starts_with("I") || dtype.starts_with("U") || dtype == "BOOL";
}

// Adds the views of every tensor `rename` keeps. Integer tensors (buffers
// such as position_ids) are skipped; float tensors that cannot be viewed
// (F64, F8) are an error naming them, as are two tensors with one name.
Status add_tensors(WeightStore& store, const SafetensorsSet& set, const Rename& rename,
                   const SdNameMap* vae_names = nullptr) {
  for (const SafetensorsSet::Entry& e : set.tensors()) {
    std::optional<std::string> name = rename(e.info->name);
    if (!name || is_integer_dtype(e.info->dtype)) continue;
    Result<Tensor> view = set.tensor(e.info->name);
    if (!view.ok())
      return Status::unsupported(set.path() + ": " + store.component() + " tensor '" + e.info->name + "' (" +
                                 e.info->dtype + "): " + view.status().message() +
                                 "; weights must be F32, F16 or BF16");
    Tensor t = view.value();
    if (vae_names && vae_names->is_vae_attention_linear(*name) && t.n_dims == 2)
      t = make_tensor(t.dtype, {t.shape[0], t.shape[1], 1, 1}, t.data);  // [C, C] linear as a 1x1 conv
    if (store.has(*name))
      return Status::invalid_argument(set.path() + ": two tensors give " + store.component() + " tensor '" +
                                      *name + "' (one is '" + e.info->name + "')");
    store.add(*name, t);
  }
  return {};
}

std::vector<std::string> tensor_names(const SafetensorsSet& set) {
  std::vector<std::string> names;
  for (const SafetensorsSet::Entry& e : set.tensors()) names.push_back(e.info->name);
  return names;
}

// " such as 'a', 'b', 'c'" from the first few names of `set`.
std::string some_names(const SafetensorsSet& set) {
  std::string s;
  for (size_t i = 0; i < set.tensors().size() && i < 3; ++i)
    s += std::string(i ? ", '" : " such as '") + set.tensors()[i].info->name + "'";
  return s;
}

std::string lowercase_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

// Pickle checkpoints can run arbitrary code when loaded; they are refused by
// name (.ckpt .pt .pth .bin) and by content (zip or pickle protocol 2-5).
Status refuse_pickle(const std::string& path) {
  const std::string ext = lowercase_extension(path);
  unsigned char head[4] = {0, 0, 0, 0};
  std::ifstream in(path, std::ios::binary);
  if (in) in.read(reinterpret_cast<char*>(head), 4);
  const bool zip = head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
  const bool pickle = head[0] == 0x80 && head[1] >= 2 && head[1] <= 5;
  if (!zip && !pickle && ext != ".ckpt" && ext != ".pt" && ext != ".pth" && ext != ".bin") return {};
  return Status::unsupported(
      path + ": a PyTorch pickle checkpoint" + (zip || pickle ? std::string(" (by its content)") : "") +
      "; pickles can run arbitrary code and are never loaded. Convert it to safetensors once, where you trust "
      "it, e.g. /usr/bin/python3 -c \"import torch, safetensors.torch as st; "
      "sd = torch.load('model.ckpt', map_location='cpu', weights_only=True); "
      "sd = sd.get('state_dict', sd); st.save_file({k: v.contiguous() for k, v in sd.items() "
      "if isinstance(v, torch.Tensor)}, 'model.safetensors')\"");
}

Result<SafetensorsSet> open_safetensors(const std::string& path) {
  AIGC_RETURN_IF_ERROR(refuse_pickle(path));
  return SafetensorsSet::open(path);
}

Status other_family(const std::string& path, const std::string& family, const std::string& evidence) {
  return Status::unsupported(path + ": this is " + family + " checkpoint (" + evidence +
                             "); only Stable Diffusion 1.x checkpoints are supported");
}

// Telltale tensor names of the other families in a single file.
Status check_single_file_family(const SafetensorsSet& set) {
  for (const SafetensorsSet::Entry& e : set.tensors()) {
    const std::string_view n = e.info->name;
    const std::string found = "found '" + e.info->name + "'";
    if (n.starts_with("conditioner.embedders.") || n.starts_with("model.diffusion_model.label_emb."))
      return other_family(set.path(), "an SDXL", found);
    if (n.starts_with("cond_stage_model.model."))
      return other_family(set.path(), "an SD 2.x", found + ", the OpenCLIP text encoder");
    if (n.starts_with("model.diffusion_model.joint_blocks.")) return other_family(set.path(), "an SD3", found);
    if (n.starts_with("double_blocks.") || n.starts_with("model.diffusion_model.double_blocks."))
      return other_family(set.path(), "a Flux", found);
  }
  return {};
}

// SD 2.x UNets attend to 1024-wide OpenCLIP states; SD 1.x to 768 (any
// width but 1024 is taken as a reduced SD 1.x).
Status check_cross_attention_width(const WeightStore& unet, const std::string& path) {
  for (const auto& [name, t] : unet.tensors()) {
    if (name.ends_with("attn2.to_k.weight") && t.n_dims == 2 && t.shape[1] == 1024)
      return other_family(path, "an SD 2.x", "UNet tensor '" + name + "' has shape " + t.shape_string() +
                                                 ": cross-attention over 1024-wide text states");
  }
  return {};
}

// The weights file of a diffusers component folder: `base`.safetensors, its
// sharded index, or the ".fp16" variant of either. A folder holding only
// pickles (.bin) is refused.
Result<std::string> component_file(const std::string& dir, const std::string& base) {
  for (const char* variant : {"", ".fp16"}) {
    for (const char* ext : {".safetensors", ".safetensors.index.json"}) {
      const std::string path = dir + "/" + base + variant + ext;
      if (fs::is_regular_file(path)) return path;
    }
  }
  const std::string bin = dir + "/" + base + ".bin";
  if (fs::is_regular_file(bin)) {
    AIGC_RETURN_IF_ERROR(refuse_pickle(bin));
  }
  return Status::not_found(dir + ": no " + base + ".safetensors (or sharded .safetensors.index.json)");
}

// An integer in 1..4096 of a diffusers config, or one that a list repeats for
// every block; nullopt when the key is absent or null.
Result<std::optional<int64_t>> config_count(const nlohmann::json& config, const char* key, const std::string& path) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::optional<int64_t>();
  const auto valid = [](const nlohmann::json& v) {
    return v.is_number_integer() && v.get<int64_t>() >= 1 && v.get<int64_t>() <= 4096;
  };
  if (valid(*it)) return std::optional<int64_t>(it->get<int64_t>());
  if (it->is_array() && !it->empty() && valid(it->front())) {
    for (const nlohmann::json& v : *it)
      if (v != it->front())
        return Status::unsupported(path + ": " + key + " " + it->dump() + " differs between blocks");
    return std::optional<int64_t>(it->front().get<int64_t>());
  }
  return Status::invalid_argument(path + ": " + key + " " + it->dump() + " is not an integer in 1..4096");
}

// What a diffusers component folder's config.json says of the structure that
// the tensor shapes do not show, into `store`: "norm_num_groups" (GroupNorm
// groups) and, for the UNet, the attention heads ("num_attention_heads", else
// "attention_head_dim", which SD 1.x configs use for the head count).
// Absent file or keys keep SD 1.x's values.
Status read_component_config(const std::string& dir, WeightStore& store) {
  const std::string path = dir + "/config.json";
  std::ifstream f(path);
  if (!f) return {};
  const nlohmann::json config = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object())
    return Status::invalid_argument(path + ": not a JSON object");
  AIGC_ASSIGN_OR_RETURN(std::optional<int64_t> groups, config_count(config, "norm_num_groups", path));
  if (groups) store.set_norm_groups(*groups);
  AIGC_ASSIGN_OR_RETURN(std::optional<int64_t> heads, config_count(config, "num_attention_heads", path));
  AIGC_ASSIGN_OR_RETURN(std::optional<int64_t> head_dim_key, config_count(config, "attention_head_dim", path));
  if (!heads) heads = head_dim_key;
  if (heads) store.set_attention_heads(*heads);
  return {};
}

}  // namespace

SdCheckpoint::SdCheckpoint() = default;
SdCheckpoint::SdCheckpoint(SdCheckpoint&&) noexcept = default;
SdCheckpoint& SdCheckpoint::operator=(SdCheckpoint&&) noexcept = default;
SdCheckpoint::~SdCheckpoint() = default;

const SafetensorsSet& SdCheckpoint::keep(SafetensorsSet set) {
  files_.push_back(std::make_unique<SafetensorsSet>(std::move(set)));
  return *files_.back();
}

Result<SdCheckpoint> SdCheckpoint::open(const std::string& path, const SdCheckpointOptions& options) {
  SdCheckpoint ckpt;
  std::error_code ec;
  const fs::path p(path);
  if (fs::is_directory(p, ec)) {
    ckpt.name_ = (p.has_filename() ? p : p.parent_path()).filename().string();
    AIGC_RETURN_IF_ERROR(ckpt.open_diffusers_folder(path));
  } else {
    std::string file = p.filename().string();
    for (const char* suffix : {".safetensors.index.json", ".safetensors"}) {
      if (file.size() > std::string_view(suffix).size() && file.ends_with(suffix)) {
        file.resize(file.size() - std::string_view(suffix).size());
        break;
      }
    }
    ckpt.name_ = file == p.filename().string() ? p.stem().string() : file;
    AIGC_RETURN_IF_ERROR(ckpt.open_single_file(path));
  }
  if (!options.vae_path.empty()) AIGC_RETURN_IF_ERROR(ckpt.open_vae_override(options.vae_path));
  if (ckpt.vae_.size() == 0)
    return Status::invalid_argument(path + ": has no VAE (" + std::string(kVaePrefix) +
                                    "*); name one with --vae FILE");
  return ckpt;
}

Status SdCheckpoint::open_single_file(const std::string& path) {
  AIGC_ASSIGN_OR_RETURN(SafetensorsSet opened, open_safetensors(path));
  const SafetensorsSet& set = keep(std::move(opened));
  AIGC_RETURN_IF_ERROR(check_single_file_family(set));
  AIGC_RETURN_IF_ERROR(add_tensors(unet_, set, strip_prefix(kUnetPrefix)));
  AIGC_RETURN_IF_ERROR(add_tensors(vae_, set, strip_prefix(kVaePrefix)));
  AIGC_RETURN_IF_ERROR(add_tensors(text_encoder_, set, text_encoder_names(kTextPrefix)));
  if (unet_.size() == 0 && vae_.size() == 0 && text_encoder_.size() == 0)
    return Status::invalid_argument(
        path + ": no Stable Diffusion component (no tensor under '" + std::string(kUnetPrefix) + "', '" +
        std::string(kVaePrefix) + "' or '" + std::string(kTextPrefix) + "'); it has " +
        std::to_string(set.tensors().size()) + " tensors" + some_names(set));
  if (unet_.size() == 0) return Status::invalid_argument(path + ": has no UNet (" + std::string(kUnetPrefix) + "*)");
  if (text_encoder_.size() == 0)
    return Status::invalid_argument(path + ": has no CLIP text encoder (" + std::string(kTextPrefix) + "*)");
  return check_cross_attention_width(unet_, path);
}

Status SdCheckpoint::open_diffusers_folder(const std::string& dir) {
  if (fs::is_directory(dir + "/transformer") && !fs::is_directory(dir + "/unet"))
    return other_family(dir, "an SD3 or Flux", "a transformer/ folder instead of unet/");
  if (fs::is_directory(dir + "/text_encoder_2")) return other_family(dir, "an SDXL", "a text_encoder_2/ folder");

  AIGC_ASSIGN_OR_RETURN(std::string unet_path, component_file(dir + "/unet", "diffusion_pytorch_model"));
  AIGC_ASSIGN_OR_RETURN(SafetensorsSet unet_file, open_safetensors(unet_path));
  const SafetensorsSet& unet = keep(std::move(unet_file));
  for (const SafetensorsSet::Entry& e : unet.tensors()) {
    if (e.info->name.starts_with("add_embedding."))
      return other_family(unet_path, "an SDXL", "found '" + e.info->name + "'");
  }
  AIGC_ASSIGN_OR_RETURN(SdNameMap unet_names, SdNameMap::unet_from_diffusers(tensor_names(unet)));
  AIGC_RETURN_IF_ERROR(add_tensors(unet_, unet, [&](std::string_view n) { return unet_names.to_ldm(n); }));
  if (unet_.size() != unet.tensors().size()) {
    for (const SafetensorsSet::Entry& e : unet.tensors()) {
      if (!unet_names.to_ldm(e.info->name) && !is_integer_dtype(e.info->dtype))
        return Status::invalid_argument(unet_path + ": UNet tensor '" + e.info->name +
                                        "' has no SD 1.x counterpart");
    }
  }
  AIGC_RETURN_IF_ERROR(check_cross_attention_width(unet_, unet_path));
  AIGC_RETURN_IF_ERROR(read_component_config(dir + "/unet", unet_));

  if (!fs::is_directory(dir + "/vae")) return Status::not_found(dir + ": no vae/ folder");
  AIGC_RETURN_IF_ERROR(open_vae_override(dir + "/vae"));

  AIGC_ASSIGN_OR_RETURN(std::string text_path, component_file(dir + "/text_encoder", "model"));
  AIGC_ASSIGN_OR_RETURN(SafetensorsSet text_file, open_safetensors(text_path));
  AIGC_RETURN_IF_ERROR(add_tensors(text_encoder_, keep(std::move(text_file)), text_encoder_names("")));

  if (fs::is_directory(dir + "/tokenizer")) {
    AIGC_ASSIGN_OR_RETURN(ClipTokenizer tok, ClipTokenizer::from_diffusers_folder(dir));
    tokenizer_ = std::make_unique<ClipTokenizer>(std::move(tok));
  }
  return {};
}

Status SdCheckpoint::open_vae_override(const std::string& path) {
  std::string file = path;
  if (fs::is_directory(path)) {
    AIGC_ASSIGN_OR_RETURN(file, component_file(path, "diffusion_pytorch_model"));
  }
  AIGC_ASSIGN_OR_RETURN(SafetensorsSet opened, open_safetensors(file));
  const SafetensorsSet& set = keep(std::move(opened));
  bool prefixed = false, diffusers = false, bare = false;
  for (const SafetensorsSet::Entry& e : set.tensors()) {
    const std::string_view n = e.info->name;
    prefixed |= n.starts_with(kVaePrefix);
    diffusers |= n.starts_with("encoder.down_blocks.") || n.starts_with("decoder.up_blocks.");
    bare |= n.starts_with("encoder.") || n.starts_with("decoder.");
  }
  WeightStore vae("VAE");
  if (prefixed) {
    AIGC_RETURN_IF_ERROR(add_tensors(vae, set, strip_prefix(kVaePrefix)));
  } else if (diffusers) {
    AIGC_ASSIGN_OR_RETURN(SdNameMap names, SdNameMap::vae_from_diffusers(tensor_names(set)));
    AIGC_RETURN_IF_ERROR(add_tensors(vae, set, [&](std::string_view n) { return names.to_ldm(n); }, &names));
  } else if (bare) {
    AIGC_RETURN_IF_ERROR(add_tensors(vae, set, [](std::string_view n) -> std::optional<std::string> {
      for (std::string_view part : {"encoder.", "decoder.", "quant_conv.", "post_quant_conv."})
        if (n.starts_with(part)) return std::string(n);
      return std::nullopt;
    }));
  } else {
    return Status::invalid_argument(file + ": not a VAE: no tensor under 'encoder.', 'decoder.' or '" +
                                    std::string(kVaePrefix) + "'; it has " + std::to_string(set.tensors().size()) +
                                    " tensors" + some_names(set));
  }
  if (fs::is_directory(path)) AIGC_RETURN_IF_ERROR(read_component_config(path, vae));
  vae_ = std::move(vae);
  return {};
}

bool SdCheckpoint::is_inpainting() const {
  const Tensor* w = unet_.find("input_blocks.0.0.weight");
  return w && w->n_dims == 4 && w->shape[1] == 9;
}

}  // namespace aigc
