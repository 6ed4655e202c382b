using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace MindAnimator.Models.Clip;

/// <summary>
/// The text clean-up CLIPTokenizer applies before BPE: <c>ftfy.fix_text</c> (without its mojibake repair),
/// whitespace collapse + strip, then Python's <c>str.lower()</c>.
/// </summary>
// Mirrors ftfy 6.1.1 ftfy/__init__.py (fix_text, fix_and_explain), ftfy/fixes.py and ftfy/chardata.py, and
// transformers 4.29 models/clip/tokenization_clip.py (whitespace_clean, _tokenize).
internal static partial class ClipTextNormalizer
{
    /// <summary>fix_text → whitespace_clean → lower, as CLIPTokenizer._tokenize does with ftfy installed.</summary>
    public static string Normalize(string text) => Lower(CollapseWhitespace(FixText(text)));

    /// <summary>
    /// ftfy.fix_text with its default config, except the encoding (mojibake) repair, which needs ftfy's
    /// statistical "badness" heuristic and is not reproduced: text that is already valid Unicode passes through
    /// that step unchanged in ftfy too.
    /// </summary>
    public static string FixText(string text)
    {
        var output = new StringBuilder(text.Length);
        var unescapeHtml = true;
        var pos = 0;
        while (pos < text.Length)
        {
            var lineBreak = text.IndexOf('\n', pos);
            var end = lineBreak < 0 ? text.Length : lineBreak + 1;
            var segment = text[pos..end];
            // ftfy's "auto" HTML mode: once a segment contains '<' the text is taken to be HTML source and
            // entities are left alone, for this and every later segment.
            if (segment.Contains('<'))
            {
                unescapeHtml = false;
            }
            output.Append(FixSegment(segment, unescapeHtml));
            pos = end;
        }
        return output.ToString();
    }

    private static string FixSegment(string text, bool unescapeHtml)
    {
        // ftfy repeats its fixers until the text stops changing (so "&amp;lt;" becomes "<").
        while (true)
        {
            var original = text;
            if (unescapeHtml)
            {
                text = UnescapeHtml(text);
            }
            text = FixC1Controls(text);
            text = FixLatinLigatures(text);
            text = FixCharacterWidth(text);
            text = UncurlQuotes(text);
            text = FixLineBreaks(text);
            text = FixSurrogates(text);
            text = TerminalEscape().Replace(text, string.Empty);
            text = RemoveControlChars(text);
            text = text.Normalize(NormalizationForm.FormC);
            if (text == original)
            {
                return text;
            }
        }
    }

    /// <summary>Replaces runs of (Python) whitespace by one space and strips the ends.</summary>
    public static string CollapseWhitespace(string text)
    {
        var sb = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (IsPythonWhitespace(c))
            {
                pendingSpace = sb.Length > 0;
                continue;
            }
            if (pendingSpace)
            {
                sb.Append(' ');
                pendingSpace = false;
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>Python's <c>str.isspace()</c> (what <c>re</c>'s <c>\s</c> matches in a str pattern).</summary>
    public static bool IsPythonWhitespace(char c) => c switch
    {
        >= '\t' and <= '\r' => true,
        >= '\u001c' and <= '\u0020' => true,
        '\u0085' or '\u00a0' or '\u1680' or '\u2028' or '\u2029' or '\u202f' or '\u205f' or '\u3000' => true,
        >= '\u2000' and <= '\u200a' => true,
        _ => false,
    };

    /// <summary>
    /// Python's <c>str.lower()</c>: per-code-point lower case plus the two full mappings that differ from the
    /// simple ones (U+0130 → "i̇", and Greek capital sigma → final sigma at the end of a word).
    /// </summary>
    public static string Lower(string text)
    {
        var sb = new StringBuilder(text.Length);
        var runes = text.EnumerateRunes().ToArray();
        for (var i = 0; i < runes.Length; i++)
        {
            var r = runes[i];
            if (r.Value == 0x130)
            {
                sb.Append("i\u0307");
            }
            else if (r.Value == 0x3A3)
            {
                sb.Append(IsFinalSigma(runes, i) ? 'ς' : 'σ');
            }
            else
            {
                sb.Append(Rune.ToLowerInvariant(r).ToString());
            }
        }
        return sb.ToString();
    }

    // Unicode's Final_Sigma condition: a cased letter before (skipping case-ignorable marks) and none after.
    private static bool IsFinalSigma(Rune[] runes, int index)
    {
        static bool IsCaseIgnorable(Rune r) => Rune.GetUnicodeCategory(r) is UnicodeCategory.NonSpacingMark
            or UnicodeCategory.EnclosingMark or UnicodeCategory.Format or UnicodeCategory.ModifierLetter
            or UnicodeCategory.ModifierSymbol || r.Value is '\'' or '.' or ':' or '\u00b7' or '\u2019';
        static bool IsCased(Rune r) => Rune.IsUpper(r) || Rune.IsLower(r) || Rune.GetUnicodeCategory(r) == UnicodeCategory.TitlecaseLetter;

        var before = index - 1;
        while (before >= 0 && IsCaseIgnorable(runes[before]))
        {
            before--;
        }
        if (before < 0 || !IsCased(runes[before]))
        {
            return false;
        }
        var after = index + 1;
        while (after < runes.Length && IsCaseIgnorable(runes[after]))
        {
            after++;
        }
        return after >= runes.Length || !IsCased(runes[after]);
    }

    private static string UnescapeHtml(string text) => text.Contains('&') ? HtmlEntity().Replace(text, m => DecodeEntity(m.Value)) : text;

    // ftfy decodes only complete "&name;" / "&#n;" entities; names are the HTML ones (System.Net knows HTML 4's)
    // plus their all-upper-case spelling for lower-case names ("&NTILDE;" → "Ñ").
    private static string DecodeEntity(string entity)
    {
        if (entity[1] == '#')
        {
            var decoded = DecodeNumericEntity(entity);
            return decoded is null || decoded.Contains(';') ? entity : decoded;
        }
        var direct = WebUtility.HtmlDecode(entity);
        if (direct != entity)
        {
            return direct;
        }
        var name = entity[1..^1];
        if (name == name.ToUpperInvariant())
        {
            var lowerEntity = "&" + name.ToLowerInvariant() + ";";
            var lowered = WebUtility.HtmlDecode(lowerEntity);
            if (lowered != lowerEntity)
            {
                // Python's str.upper() maps ß to "SS".
                return lowered == "ß" ? "SS" : lowered.ToUpperInvariant();
            }
        }
        return entity;
    }

    // Python's html.unescape for "&#…;": Windows-1252 for 0x80–0x9F, U+FFFD for NUL, surrogates and
    // out-of-range values, nothing for other invalid code points.
    private static string? DecodeNumericEntity(string entity)
    {
        var body = entity[2..^1];
        var hex = body.Length > 0 && (body[0] == 'x' || body[0] == 'X');
        var digits = hex ? body[1..] : body;
        if (digits.Length == 0 || !digits.All(c => hex ? char.IsAsciiHexDigit(c) : char.IsAsciiDigit(c)))
        {
            return null;
        }
        var trimmed = digits.TrimStart('0');
        if (trimmed.Length > 8)
        {
            return "\ufffd";
        }
        var value = trimmed.Length == 0 ? 0 : long.Parse(trimmed, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture);
        if (value == 0)
        {
            return "\ufffd";
        }
        if (value == 0x0d)
        {
            return "\r";
        }
        if (value is >= 0x80 and <= 0x9f)
        {
            return Windows1252High[(int)value - 0x80].ToString();
        }
        if (value is >= 0xd800 and <= 0xdfff || value > 0x10ffff)
        {
            return "\ufffd";
        }
        if (value is (>= 0x1 and <= 0x8) or 0xb or (>= 0xe and <= 0x1f) or 0x7f or (>= 0xfdd0 and <= 0xfdef) || (value & 0xfffe) == 0xfffe)
        {
            return string.Empty;
        }
        return char.ConvertFromUtf32((int)value);
    }

    // Bytes 0x80–0x9F in "sloppy" Windows-1252 (undefined bytes map to the same code point).
    private const string Windows1252High =
        "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f"
        + "\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178";

    private static string FixC1Controls(string text) => MapChars(text, c => c is >= '\u0080' and <= '\u009f' ? Windows1252High[c - 0x80].ToString() : null);

    private static string FixLatinLigatures(string text) => MapChars(text, c => c switch
    {
        'Ĳ' => "IJ",
        'ĳ' => "ij",
        'ŉ' => "ʼn",
        'Ǳ' => "DZ",
        'ǲ' => "Dz",
        'ǳ' => "dz",
        'Ǆ' => "DŽ",
        'ǅ' => "Dž",
        'ǆ' => "dž",
        'Ǉ' => "LJ",
        'ǈ' => "Lj",
        'ǉ' => "lj",
        'Ǌ' => "NJ",
        'ǋ' => "Nj",
        'ǌ' => "nj",
        'ﬀ' => "ff",
        'ﬁ' => "fi",
        'ﬂ' => "fl",
        'ﬃ' => "ffi",
        'ﬄ' => "ffl",
        'ﬅ' => "ſt",
        'ﬆ' => "st",
        _ => null,
    });

    // Full-width and half-width forms (U+FF01–U+FFEF) become their NFKC equivalents; U+3000 becomes a space.
    private static string FixCharacterWidth(string text) => MapChars(text, c =>
    {
        if (c == '\u3000')
        {
            return " ";
        }
        if (c is >= '\uff01' and <= '\uffef')
        {
            var s = c.ToString();
            var folded = s.Normalize(NormalizationForm.FormKC);
            return folded == s ? null : folded;
        }
        return null;
    });

    private static string UncurlQuotes(string text) => MapChars(text, c => c switch
    {
        '\u02bc' or (>= '\u2018' and <= '\u201b') => "'",
        >= '\u201c' and <= '\u201f' => "\"",
        _ => null,
    });

    private static string FixLineBreaks(string text) =>
        text.Replace("\r\n", "\n").Replace('\r', '\n').Replace('\u2028', '\n').Replace('\u2029', '\n').Replace('\u0085', '\n');

    // A .NET string holds surrogate pairs as the characters they encode; only unpaired halves remain to fix.
    private static string FixSurrogates(string text)
    {
        if (!text.Any(char.IsSurrogate))
        {
            return text;
        }
        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                sb.Append(text[i]).Append(text[i + 1]);
                i++;
            }
            else
            {
                sb.Append(char.IsSurrogate(text[i]) ? '\ufffd' : text[i]);
            }
        }
        return sb.ToString();
    }

    private static string RemoveControlChars(string text) => MapChars(text, c => c switch
    {
        (>= '\u0000' and <= '\u0008') or '\u000b' or (>= '\u000e' and <= '\u001f') or '\u007f' => string.Empty,
        (>= '\u206a' and <= '\u206f') or '\ufeff' or (>= '\ufff9' and <= '\ufffc') => string.Empty,
        _ => null,
    });

    // Like Python's str.translate: each char maps to a replacement string, or null to keep it.
    private static string MapChars(string text, Func<char, string?> map)
    {
        StringBuilder? sb = null;
        for (var i = 0; i < text.Length; i++)
        {
            var replacement = map(text[i]);
            if (replacement is null)
            {
                sb?.Append(text[i]);
                continue;
            }
            sb ??= new StringBuilder(text.Length).Append(text, 0, i);
            sb.Append(replacement);
        }
        return sb?.ToString() ?? text;
    }

    [GeneratedRegex("&#?[0-9A-Za-z]{1,24};")]
    private static partial Regex HtmlEntity();

    [GeneratedRegex("\u001b\\[((?:\\d|;)*)([a-zA-Z])")]
    private static partial Regex TerminalEscape();
}
