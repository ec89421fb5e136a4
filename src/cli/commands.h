// The subcommands of the aigc program, each registered on the CLI11 app by
// the file that implements it. A command that fails prints "aigc: <error>"
// and throws CLI::RuntimeError with its exit code.
#pragma once

namespace CLI {
class App;
}

namespace aigc {

void add_text_commands(CLI::App& app);      // text, tokenize, perplexity (text_commands.cpp)
void add_chat_command(CLI::App& app);       // chat (chat.cpp)
void add_quantize_command(CLI::App& app);   // quantize (quantize.cpp)
void add_image_command(CLI::App& app);      // image (image_command.cpp)
void add_bench_text_command(CLI::App& bench);  // bench text (bench_text.cpp)
void add_bench_image_command(CLI::App& bench);  // bench image (bench_image.cpp)

}  // namespace aigc
