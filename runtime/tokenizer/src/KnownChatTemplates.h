#pragma once
// The chat templates Fathom renders natively, verbatim (as the Jinja text a checkpoint ships), so
// that recognition is an exact comparison. Copied from the sources below by script; ChatFormatTest
// checks both copies against those sources, so do not edit them by hand.
#include <string_view>

namespace fathom::tokenizer::detail {

// deepseek-ai/DeepSeek-V3 tokenizer_config.json "chat_template" at revision e815299b (sha256 of the
// file 637bcd1a...), identical in ../shared/testdata/tokenizers/deepseek-v3/.
inline constexpr std::string_view kDeepSeekV3ChatTemplate =
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% e"
    "ndif %}{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system"
    "_prompt='', is_first_sp=true) %}{%- for message in messages %}{%- if message['role'] == "
    "'system' %}{%- if ns.is_first_sp %}{% set ns.system_prompt = ns.system_prompt + message["
    "'content'] %}{% set ns.is_first_sp = false %}{%- else %}{% set ns.system_prompt = ns.sys"
    "tem_prompt + '\n\n' + message['content'] %}{%- endif %}{%- endif %}{%- endfor %}{{bos_to"
    "ken}}{{ns.system_prompt}}{%- for message in messages %}{%- if message['role'] == 'user' "
    "%}{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}{%- if me"
    "ssage['role'] == 'assistant' and message['content'] is none %}{%- set ns.is_tool = false"
    " -%}{%- for tool in message['tool_calls']%}{%- if not ns.is_first %}{{'<｜Assistant｜><｜to"
    "ol▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']["
    "'name'] + '\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜to"
    "ol▁call▁end｜>'}}{%- set ns.is_first = true -%}{%- else %}{{'\n' + '<｜tool▁call▁begin｜>' "
    "+ tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + t"
    "ool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}{{'<｜tool▁calls▁end｜>"
    "<｜end▁of▁sentence｜>'}}{%- endif %}{%- endfor %}{%- endif %}{%- if message['role'] == 'as"
    "sistant' and message['content'] is not none %}{%- if ns.is_tool %}{{'<｜tool▁outputs▁end｜"
    ">' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- set ns.is_tool = false -%}{%- else "
    "%}{{'<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endif "
    "%}{%- if message['role'] == 'tool' %}{%- set ns.is_tool = true -%}{%- if ns.is_output_fi"
    "rst %}{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁out"
    "put▁end｜>'}}{%- set ns.is_output_first = false %}{%- else %}{{'\n<｜tool▁output▁begin｜>' "
    "+ message['content'] + '<｜tool▁output▁end｜>'}}{%- endif %}{%- endif %}{%- endfor -%}{% i"
    "f ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{% endif %}{% if add_generation_prompt and not "
    "ns.is_tool %}{{'<｜Assistant｜>'}}{% endif %}";

// DeepSeek-VL as ported to transformers (DeepseekVLProcessor): the chat template of
// tests/models/deepseek_vl/test_processing_deepseek_vl.py, which model-spec.md B3 and
// text-image.md 1.5 describe. test/unit/tokenizer/make_goldens.py holds the same text.
inline constexpr std::string_view kDeepSeekVlChatTemplate =
    "{% set seps = ['\n\n', '<｜end▁of▁sentence｜>'] %}{% set i = 0 %}You are a helpful languag"
    "e and vision assistant. You are able to understand the visual content that the user prov"
    "ides, and assist the user with a variety of tasks using natural language.\n\n{% for mess"
    "age in messages %}{% if message['role']|lower == 'user' %}User: {% elif message['role']|"
    "lower == 'assistant' %}Assistant:{% if not (loop.last and not add_generation_prompt and "
    "message['content'][0]['type']=='text' and message['content'][0]['text']=='') %} {% endif"
    " %}{% else %}{{ message['role'].capitalize() }}: {% endif %}{% for content in message['c"
    "ontent'] %}{% if content['type'] == 'image' %}<image_placeholder>{% elif content['type']"
    " == 'text' %}{% set text = content['text'] %}{% if loop.first %}{% set text = text.lstri"
    "p() %}{% endif %}{% if loop.last %}{% set text = text.rstrip() %}{% endif %}{% if not lo"
    "op.first and message['content'][loop.index0-1]['type'] == 'text' %}{{ ' ' + text }}{% el"
    "se %}{{ text }}{% endif %}{% endif %}{% endfor %}{% if not loop.last or add_generation_p"
    "rompt %}{% if message['role']|lower == 'user' %}{{ seps[0] }}{% else %}{{ seps[1] }}{% e"
    "ndif %}{% endif %}{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}";

} // namespace fathom::tokenizer::detail
