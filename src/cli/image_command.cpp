// `aigc image`: txt2img, img2img and inpainting with a Stable Diffusion 1.x
// checkpoint (single .safetensors file or diffusers folder), PNGs carrying the
// web UIs' "parameters" text, and `--from OUT.png` to regenerate one.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/llm_session.h"
#include "core/threads.h"
#include "image/clip_text_encoder.h"
#include "image/image_io.h"
#include "image/infotext.h"
#include "image/lora.h"
#include "image/npy.h"
#include "image/pipeline.h"
#include "image/sd_checkpoint.h"
#include "image/unet.h"
#include "image/vae.h"

namespace aigc {

namespace {

struct ImageOptions {
  std::string model, vae, clip_vocab, output = "image.png", from;
  std::string prompt, negative, sampler = "euler_a", scheduler = "normal";
  std::string init_image, mask, noise;
  std::vector<std::string> loras;  // FILE:WEIGHT
  int steps = 20, width = 512, height = 512, max_side = 2048, batch = 1, clip_skip = 1, threads = 0;
  int comma_backtrack = kDefaultCommaBacktrack;
  float cfg = 7.0f, strength = 0.75f;
  int64_t seed = -1;
  int64_t vae_tile = 0;
  bool vae_tiling = false;
};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// "FILE:WEIGHT" or "FILE" (weight 1). The weight is after the last ':' if it parses as a number.
Result<LoraSpec> parse_lora(const std::string& s) {
  LoraSpec spec;
  spec.path = s;
  const size_t colon = s.rfind(':');
  if (colon != std::string::npos && colon + 1 < s.size()) {
    const std::string w = s.substr(colon + 1);
    char* end = nullptr;
    const float v = std::strtof(w.c_str(), &end);
    if (end && *end == '\0') {
      spec.path = s.substr(0, colon);
      spec.strength = v;
    } else if (w.find_first_not_of("0123456789.-+eE") == std::string::npos) {
      return Status::invalid_argument("--lora " + s + ": weight '" + w + "' is not a number");
    }
  }
  return spec;
}

// Output path of batch item k (0-based): OUT.png, or OUT-1.png, OUT-2.png... for a batch.
std::string output_path(const std::string& out, int k, int batch) {
  if (batch == 1) return out;
  const std::filesystem::path p(out);
  return (p.parent_path() / (p.stem().string() + "-" + std::to_string(k + 1) + p.extension().string())).string();
}

// The tokenizer: --clip-vocab (the original merges file), else the diffusers folder's tokenizer/.
Result<ClipTokenizer> open_tokenizer(const ImageOptions& o, const SdCheckpoint& ckpt) {
  if (!o.clip_vocab.empty()) return ClipTokenizer::from_merges_file(o.clip_vocab);
  if (const ClipTokenizer* t = ckpt.tokenizer()) return *t;
  return Status::not_found(o.model +
                           " has no tokenizer (a single-file checkpoint does not carry one): pass --clip-vocab "
                           "bpe_simple_vocab_16e6.txt.gz, the merges file of OpenAI's CLIP (clip/ in its repository; "
                           "a diffusers checkpoint's tokenizer/merges.txt works too), or use a diffusers folder with tokenizer/");
}

// The shipped demonstration image model (a diffusers folder), relative to a models directory.
constexpr const char* kDefaultImageModel = "image/aigc-shapes";

// The first <models dir>/kDefaultImageModel (cli/llm_session.h default_models_dirs()), or NotFound naming the
// places searched.
Result<std::string> find_default_image_model() {
  std::string searched;
  for (const std::string& dir : default_models_dirs()) {
    const std::filesystem::path path = std::filesystem::path(dir) / kDefaultImageModel;
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return path.string();
    searched += (searched.empty() ? "" : ", ") + path.string();
  }
  if (searched.empty()) searched = "nowhere: the program's own path is unknown";
  return Status::not_found("image: no -m MODEL given and the default image model was not found (searched " +
                           searched + "): give -m MODEL (a .safetensors checkpoint or a diffusers folder), or set "
                           "AIGC_MODELS_DIR to the folder holding " + kDefaultImageModel);
}

// The latent side a model was trained at: a diffusers folder's unet/config.json "sample_size"; 0 when the model
// does not say. Times the VAE's scale, as diffusers takes it, it is the default image side.
int native_latent_side(const std::string& model) {
  std::ifstream f(std::filesystem::path(model) / "unet" / "config.json");
  if (!f) return 0;
  const nlohmann::json config = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  const auto it = config.is_object() ? config.find("sample_size") : config.end();
  return it != config.end() && it->is_number_integer() && it->get<int>() > 0 && it->get<int>() <= 1024
             ? it->get<int>() : 0;
}

// Values from a PNG's "parameters" text; flags given on the command line win.
Status apply_from(ImageOptions& o, const CLI::App& cmd) {
  AIGC_ASSIGN_OR_RETURN(auto chunks, read_png_text(o.from));
  const std::string* text = nullptr;
  for (const auto& [key, value] : chunks)
    if (key == "parameters") text = &value;
  if (!text) return Status::not_found(o.from + ": no 'parameters' text chunk (not written by aigc or a web UI)");
  AIGC_ASSIGN_OR_RETURN(GenerationParams p, parse_infotext(*text));
  auto given = [&](const char* name) { return cmd.get_option(name)->count() > 0; };
  if (!given("--prompt")) o.prompt = p.prompt;
  if (!given("--negative")) o.negative = p.negative;
  if (!given("--steps")) o.steps = p.steps;
  if (!given("--sampler")) o.sampler = p.sampler;
  if (!given("--cfg")) o.cfg = p.cfg;
  if (!given("--seed")) o.seed = int64_t(p.seed);
  if (!given("--width")) o.width = p.width;
  if (!given("--height")) o.height = p.height;
  // "Automatic" (web UI 1.9+): the sampler's own schedule, which is ours by default.
  if (!given("--scheduler") && !p.schedule_type.empty() && p.schedule_type != "Automatic") {
    AIGC_ASSIGN_OR_RETURN(Spacing spacing, parse_spacing(p.schedule_type));
    o.scheduler = spacing_name(spacing);
  }
  if (!given("--clip-skip")) o.clip_skip = p.clip_skip;
  if (!given("--strength") && p.strength > 0) o.strength = p.strength;
  return Status();
}

// The progress line on stderr when it is a terminal: image, step, s/step, time left.
class ProgressBar {
 public:
  explicit ProgressBar(int batch) : batch_(batch), enabled_(isatty(STDERR_FILENO)), start_(now_seconds()) {
    last_ = start_;
  }
  void update(int item, int step, int n_steps) {
    const double t = now_seconds();
    if (item != item_) {
      item_ = item;
      item_start_ = last_;  // the item began when the previous one ended
    }
    last_ = t;
    if (!enabled_) return;
    const double per_step = (t - item_start_) / step;
    const double left = per_step * ((n_steps - step) + double(batch_ - 1 - item) * n_steps);
    std::fprintf(stderr, "\rimage %d/%d  step %d/%d  %.2f s/step  %.0f s left   ", item + 1, batch_, step, n_steps,
                 per_step, left);
    if (step == n_steps && item + 1 == batch_) std::fputc('\n', stderr);
    std::fflush(stderr);
  }
  double elapsed() const { return now_seconds() - start_; }

 private:
  int batch_, item_ = -1;
  bool enabled_;
  double start_, last_, item_start_ = 0;
};

Status run_image(ImageOptions o, const CLI::App& cmd) {
  if (!o.from.empty()) AIGC_RETURN_IF_ERROR(apply_from(o, cmd));
  if (o.model.empty()) {
    AIGC_ASSIGN_OR_RETURN(o.model, find_default_image_model());
  }
  const bool size_given = cmd.get_option("--width")->count() > 0 || cmd.get_option("--height")->count() > 0;
  const bool native_size = o.from.empty() && !size_given;
  const int native_latent = native_size ? native_latent_side(o.model) : 0;
  if (o.vae_tiling && o.vae_tile == 0) o.vae_tile = kVaeDefaultTile;
  set_num_threads(o.threads);

  ImageRequest r;
  r.prompt = o.prompt;
  r.negative = o.negative;
  r.width = o.width;
  r.height = o.height;
  r.max_side = o.max_side;
  r.steps = o.steps;
  r.cfg = o.cfg;
  r.batch = o.batch;
  r.clip_skip = o.clip_skip;
  r.comma_backtrack = o.comma_backtrack;
  r.strength = o.strength;
  r.vae_tile = o.vae_tile;
  AIGC_ASSIGN_OR_RETURN(r.sampler, parse_sampler(o.sampler));
  AIGC_ASSIGN_OR_RETURN(r.spacing, parse_spacing(o.scheduler));
  r.seed = o.seed >= 0 ? uint64_t(o.seed) : uint64_t(std::random_device{}() & 0xFFFFFFFFu);

  std::optional<Image> init, mask;
  if (!o.init_image.empty()) {
    AIGC_ASSIGN_OR_RETURN(init, load_image(o.init_image));
    r.init_image = &*init;
  }
  if (!o.mask.empty()) {
    if (!init) return Status::invalid_argument("--mask needs --init-image (the image to inpaint)");
    AIGC_ASSIGN_OR_RETURN(mask, load_image(o.mask));
    r.mask = &*mask;
  }
  std::optional<NpyArray> noise;
  if (!o.noise.empty()) {
    AIGC_ASSIGN_OR_RETURN(noise, read_npy(o.noise));
  }
  std::vector<LoraSpec> loras;
  for (const std::string& s : o.loras) {
    AIGC_ASSIGN_OR_RETURN(LoraSpec spec, parse_lora(s));
    loras.push_back(spec);
  }

  const double t_load = now_seconds();
  SdCheckpointOptions copts;
  copts.vae_path = o.vae;
  AIGC_ASSIGN_OR_RETURN(SdCheckpoint ckpt, SdCheckpoint::open(o.model, copts));
  std::vector<LoraReport> reports;
  if (!loras.empty()) AIGC_RETURN_IF_ERROR(apply_loras(ckpt, loras, &reports));
  // A LoRA that matches nothing is an error of apply_loras; one that partly matches is merged with a warning.
  for (const LoraReport& rep : reports)
    if (rep.n_unmatched_keys > 0)
      std::fprintf(stderr, "warning: %s: %zu module%s merged, %zu key%s match no weight of the model (e.g. %s)\n",
                   rep.path.c_str(), rep.n_modules, rep.n_modules == 1 ? "" : "s", rep.n_unmatched_keys,
                   rep.n_unmatched_keys == 1 ? "" : "s",
                   rep.unmatched_examples.empty() ? "" : rep.unmatched_examples[0].c_str());
  AIGC_ASSIGN_OR_RETURN(ClipTokenizer tokenizer, open_tokenizer(o, ckpt));
  AIGC_ASSIGN_OR_RETURN(ClipTextEncoder text_encoder, ClipTextEncoder::load(ckpt.text_encoder()));
  AIGC_ASSIGN_OR_RETURN(Unet unet, Unet::load(ckpt.unet()));
  AIGC_ASSIGN_OR_RETURN(Vae vae, Vae::load(ckpt.vae()));
  const double load_seconds = now_seconds() - t_load;

  SdPipeline pipeline(tokenizer, text_encoder, unet, vae);
  const int64_t f = pipeline.latent_scale();
  if (native_size) r.width = r.height = native_latent > 0 ? int(native_latent * f) : 512;
  if (noise) {
    const std::vector<int64_t>& shape = noise->shape;
    if (shape.size() != 4 || shape[1] != 4 || shape[2] != r.height / f || shape[3] != r.width / f)
      return Status::invalid_argument(o.noise + ": noise must be float32 Nx4x" + std::to_string(r.height / f) + "x" +
                                      std::to_string(r.width / f) + " for a " + std::to_string(r.width) + "x" +
                                      std::to_string(r.height) + " image");
    r.noise_items = shape[0];
    r.noise = std::move(noise->data);
  }
  AIGC_RETURN_IF_ERROR(pipeline.validate(r));
  ProgressBar bar(r.batch);
  AIGC_ASSIGN_OR_RETURN(GeneratedImages out,
                        pipeline.generate(r, [&bar](int item, int step, int n) { bar.update(item, step, n); }));

  for (int k = 0; k < r.batch; ++k) {
    GenerationParams p;
    p.prompt = r.prompt;
    p.negative = r.negative;
    p.steps = r.steps;
    p.sampler = sampler_display_name(r.sampler);
    p.cfg = r.cfg;
    p.seed = out.seeds[size_t(k)];
    p.width = r.width;
    p.height = r.height;
    p.model = ckpt.name();
    if (r.spacing == Spacing::kKarras && r.sampler != SamplerKind::kDpmpp2mKarras) p.schedule_type = "Karras";
    p.clip_skip = r.clip_skip;
    if (r.init_image) p.strength = r.strength;
    for (const LoraSpec& l : loras)
      p.extra.emplace_back("Lora", std::filesystem::path(l.path).stem().string() + ":" + std::to_string(l.strength));
    const std::string path = output_path(o.output, k, r.batch);
    AIGC_RETURN_IF_ERROR(save_png(path, out.images[size_t(k)], {{"parameters", format_infotext(p)}}));
    std::printf("%s\n", path.c_str());
  }
  std::fprintf(stderr, "%d image%s %dx%d, %d steps, seed %llu: loaded in %.2f s, generated in %.2f s\n", r.batch,
               r.batch == 1 ? "" : "s", r.width, r.height, r.steps, (unsigned long long)r.seed, load_seconds,
               bar.elapsed());
  return Status();
}

}  // namespace

void add_image_command(CLI::App& app) {
  auto o = std::make_shared<ImageOptions>();
  CLI::App* c = app.add_subcommand("image", "Generate images with a Stable Diffusion 1.x checkpoint (txt2img, img2img, inpainting)");
  c->add_option("-m,--model", o->model,
                "checkpoint: a single .safetensors file or a diffusers folder (default: the shipped "
                "demonstration model, <models dir>/" + std::string(kDefaultImageModel) + ")");
  c->add_option("-p,--prompt", o->prompt, "prompt; (word:1.3), (word), [word] and BREAK as in the web UIs");
  c->add_option("-n,--negative", o->negative, "negative prompt");
  c->add_option("-o,--output", o->output, "output PNG; a batch writes OUT-1.png, OUT-2.png, ...")->capture_default_str();
  c->add_option("--steps", o->steps, "sampling steps")->capture_default_str();
  c->add_option("--cfg", o->cfg, "classifier-free guidance scale (1: no guidance)")->capture_default_str();
  c->add_option("--sampler", o->sampler,
                "euler, euler_a, heun, dpmpp_2m, dpmpp_2m_karras, ddim, lcm (or the web UI names)")->capture_default_str();
  c->add_option("--scheduler", o->scheduler, "sigma spacing: normal or karras")->capture_default_str();
  c->add_option("--seed", o->seed, "seed (-1: random); batch item k uses seed + k")->capture_default_str();
  c->add_option("-W,--width", o->width, "width, a multiple of the VAE's scale (8 for SD; default: the model's own, else 512)");
  c->add_option("-H,--height", o->height, "height, a multiple of the VAE's scale (8 for SD; default: the model's own, else 512)");
  c->add_option("--max-size", o->max_side, "largest width or height accepted")->capture_default_str();
  c->add_option("--batch", o->batch, "number of images")->capture_default_str()->check(CLI::Range(1, 64));
  c->add_option("--clip-skip", o->clip_skip, "use the text encoder's n-th layer from the end")->capture_default_str();
  c->add_option("--comma-backtrack", o->comma_backtrack,
                "prompts over 75 tokens: end a window after a comma among its last N tokens (0: off)")
      ->capture_default_str();
  c->add_option("--init-image", o->init_image, "img2img: start from this PNG/JPEG (same size as the output)");
  c->add_option("--strength", o->strength, "img2img: how much of the init image is repainted (0..1]")->capture_default_str();
  c->add_option("--mask", o->mask, "inpainting: mask image, white = repaint (same size as --init-image)");
  c->add_option("--lora", o->loras, "LoRA FILE:WEIGHT (repeatable)");
  c->add_option("--vae", o->vae, "replace the checkpoint's VAE with this .safetensors file");
  c->add_option("--clip-vocab", o->clip_vocab,
                "CLIP merges file (bpe_simple_vocab_16e6.txt[.gz]) for single-file checkpoints");
  c->add_option("--noise", o->noise, "initial latent: float32 .npy of shape 1x4xH/8xW/8 (or batch x 4 x ...)");
  c->add_flag("--vae-tiling", o->vae_tiling, "decode in tiles (bounded memory; automatic above 768x768)");
  c->add_option("--vae-tile", o->vae_tile, "tile side in latent pixels (implies --vae-tiling)");
  c->add_option("--from", o->from, "regenerate from a PNG's parameters (flags given here override them)");
  c->add_option("-t,--threads", o->threads, "threads (0 = all cores)")->capture_default_str();
  c->callback([o, c] {
    Status s = run_image(*o, *c);
    if (!s.ok()) throw CLI::RuntimeError(print_error(s));
  });
}

}  // namespace aigc
