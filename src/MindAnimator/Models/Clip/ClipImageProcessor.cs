using System.Text.Json;
using static TorchSharp.torch;

namespace MindAnimator.Models.Clip;

/// <summary>
/// CLIP's image preprocessing for uint8 RGB frames: resize so the shorter side is <see cref="ShortestEdge"/>
/// (Pillow's antialiased bicubic, 8-bit), centre crop, scale to [0, 1], normalise with CLIP's mean/std.
/// </summary>
// Mirrors transformers 4.29 src/transformers/models/clip/image_processing_clip.py (CLIPImageProcessor) with
// image_transforms.py (get_resize_output_image_size, center_crop) and Pillow's Resample.c (bicubic, a = -0.5).
public sealed class ClipImageProcessor
{
    private const int PrecisionBits = 32 - 8 - 2;

    /// <summary>OpenAI CLIP's per-channel mean (RGB).</summary>
    public static readonly double[] ClipMean = [0.48145466, 0.4578275, 0.40821073];

    /// <summary>OpenAI CLIP's per-channel standard deviation (RGB).</summary>
    public static readonly double[] ClipStd = [0.26862954, 0.26130258, 0.27577711];

    public int ShortestEdge { get; init; } = 224;

    public int CropHeight { get; init; } = 224;

    public int CropWidth { get; init; } = 224;

    public IReadOnlyList<double> Mean { get; init; } = ClipMean;

    public IReadOnlyList<double> Std { get; init; } = ClipStd;

    /// <summary>
    /// How the centre crop's offset is rounded: transformers floors (the default), torchvision's CenterCrop — used
    /// by OpenAI's <c>clip.load(...)</c> preprocess, hence by Mind-Animator's contrastive targets and CLIP-pcc —
    /// rounds half to even. They differ by one pixel when the excess is odd.
    /// </summary>
    public CropRounding CropOffsetRounding { get; init; } = CropRounding.Floor;

    /// <summary>OpenAI CLIP's own preprocess (torchvision Resize(224, bicubic) on a PIL image, CenterCrop(224), Normalize).</summary>
    public static ClipImageProcessor OpenAiClip { get; } = OpenAiClipAt(224);

    /// <summary>OpenAI CLIP's preprocess for a model whose input is <paramref name="size"/>² (the vision config's image_size).</summary>
    public static ClipImageProcessor OpenAiClipAt(int size) =>
        new() { CropOffsetRounding = CropRounding.HalfToEven, ShortestEdge = size, CropHeight = size, CropWidth = size };

    /// <summary>
    /// Reads a transformers preprocessor_config.json (size.shortest_edge or size, crop_size, image_mean,
    /// image_std); only bicubic resampling (resample 3) is supported.
    /// </summary>
    public static ClipImageProcessor FromFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: preprocessor config not found.");
        }
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"invalid JSON ({e.Message}).", e);
        }
        int Positive(JsonElement e, string field) =>
            e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var v) && v > 0 ? v : throw new DataFormatException(path, $"field '{field}': expected a positive integer, got {e.GetRawText()}.");
        double[] Triple(string field, double[] fallback)
        {
            if (!root.TryGetProperty(field, out var e))
            {
                return fallback;
            }
            if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != 3 || e.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.Number))
            {
                throw new DataFormatException(path, $"field '{field}': expected three numbers (R, G, B).");
            }
            return e.EnumerateArray().Select(x => x.GetDouble()).ToArray();
        }
        if (root.TryGetProperty("resample", out var resample) && !(resample.ValueKind == JsonValueKind.Number && resample.GetInt32() == 3))
        {
            throw new DataFormatException(path, $"field 'resample': {resample.GetRawText()} is not supported (expected 3, bicubic).");
        }
        var shortest = 224;
        if (root.TryGetProperty("size", out var size))
        {
            shortest = size.ValueKind == JsonValueKind.Object
                ? Positive(size.TryGetProperty("shortest_edge", out var s) ? s : default, "size.shortest_edge")
                : Positive(size, "size");
        }
        var (cropH, cropW) = (224, 224);
        if (root.TryGetProperty("crop_size", out var crop))
        {
            (cropH, cropW) = crop.ValueKind == JsonValueKind.Object
                ? (Positive(crop.TryGetProperty("height", out var h) ? h : default, "crop_size.height"), Positive(crop.TryGetProperty("width", out var w) ? w : default, "crop_size.width"))
                : (Positive(crop, "crop_size"), Positive(crop, "crop_size"));
        }
        var std = Triple("image_std", ClipStd);
        if (std.Any(v => v <= 0))
        {
            throw new DataFormatException(path, "field 'image_std': values must be positive.");
        }
        return new ClipImageProcessor { ShortestEdge = shortest, CropHeight = cropH, CropWidth = cropW, Mean = Triple("image_mean", ClipMean), Std = std };
    }

    /// <summary>
    /// Preprocesses uint8 RGB frames, (H, W, 3) or (N, H, W, 3), into float32 pixel values (N, 3, CropHeight, CropWidth)
    /// on the CPU.
    /// </summary>
    public Tensor Preprocess(Tensor frames)
    {
        if (frames.dtype != ScalarType.Byte || frames.dim() is not (3 or 4) || frames.shape[^1] != 3)
        {
            throw new ArgumentException($"frames must be uint8 (H, W, 3) or (N, H, W, 3), got {frames.dtype} [{string.Join(", ", frames.shape)}].", nameof(frames));
        }
        using var scope = NewDisposeScope();
        var batch = frames.dim() == 4 ? frames : frames.unsqueeze(0);
        var (n, height, width) = ((int)batch.shape[0], (int)batch.shape[1], (int)batch.shape[2]);
        var pixels = batch.cpu().contiguous().data<byte>().ToArray();
        var frameBytes = height * width * 3;
        var output = new float[n * 3 * CropHeight * CropWidth];
        for (var i = 0; i < n; i++)
        {
            Preprocess(pixels.AsSpan(i * frameBytes, frameBytes), height, width).CopyTo(output.AsSpan(i * 3 * CropHeight * CropWidth));
        }
        return tensor(output, [n, 3, CropHeight, CropWidth]).MoveToOuterDisposeScope();
    }

    /// <summary>Preprocesses one HWC uint8 RGB frame into CHW float pixel values.</summary>
    public float[] Preprocess(ReadOnlySpan<byte> rgb, int height, int width)
    {
        if (rgb.Length != height * width * 3)
        {
            throw new ArgumentException($"expected {height}×{width}×3 bytes, got {rgb.Length}.", nameof(rgb));
        }
        var (newHeight, newWidth) = ResizeOutputSize(height, width, ShortestEdge);
        var resized = ResizeBicubic(rgb.ToArray(), height, width, newHeight, newWidth);
        var top = CropOffset(newHeight - CropHeight);
        var left = CropOffset(newWidth - CropWidth);
        if (top < 0 || left < 0)
        {
            throw new ArgumentException($"a {height}×{width} frame resized to {newHeight}×{newWidth} is smaller than the {CropHeight}×{CropWidth} crop.");
        }
        var output = new float[3 * CropHeight * CropWidth];
        for (var c = 0; c < 3; c++)
        {
            for (var y = 0; y < CropHeight; y++)
            {
                for (var x = 0; x < CropWidth; x++)
                {
                    var value = resized[((((top + y) * newWidth) + left + x) * 3) + c] / 255.0;
                    output[(((c * CropHeight) + y) * CropWidth) + x] = (float)((value - Mean[c]) / Std[c]);
                }
            }
        }
        return output;
    }

    private int CropOffset(int excess) => CropOffsetRounding == CropRounding.Floor
        ? (int)Math.Floor(excess / 2.0)
        : (int)Math.Round(excess / 2.0, MidpointRounding.ToEven);

    /// <summary>transformers' size rule: the shorter side becomes <paramref name="shortestEdge"/>, the longer is scaled and truncated.</summary>
    public static (int Height, int Width) ResizeOutputSize(int height, int width, int shortestEdge)
    {
        var (shortSide, longSide) = width <= height ? (width, height) : (height, width);
        var newLong = (int)((long)shortestEdge * longSide / (double)shortSide);
        return width <= height ? (newLong, shortestEdge) : (shortestEdge, newLong);
    }

    /// <summary>
    /// Pillow's <c>Image.resize(..., BICUBIC)</c> on an 8-bit RGB image: separable, antialiased when shrinking
    /// (the kernel widens by the scale), fixed-point weights, rounded and clipped after each pass.
    /// </summary>
    public static byte[] ResizeBicubic(byte[] rgb, int height, int width, int newHeight, int newWidth)
    {
        var horizontal = width == newWidth ? rgb : ResamplePass(rgb, height, width, newWidth, horizontalPass: true);
        return height == newHeight ? horizontal : ResamplePass(horizontal, height, newWidth, newHeight, horizontalPass: false);
    }

    private static byte[] ResamplePass(byte[] source, int height, int width, int outSize, bool horizontalPass)
    {
        var inSize = horizontalPass ? width : height;
        var (bounds, weights, taps) = Coefficients(inSize, outSize);
        var (outHeight, outWidth) = horizontalPass ? (height, outSize) : (outSize, width);
        var output = new byte[outHeight * outWidth * 3];
        Parallel.For(0, outHeight, y =>
        {
            for (var x = 0; x < outWidth; x++)
            {
                var o = horizontalPass ? x : y;
                var (start, count) = bounds[o];
                for (var c = 0; c < 3; c++)
                {
                    long sum = 1L << (PrecisionBits - 1);
                    for (var k = 0; k < count; k++)
                    {
                        var index = horizontalPass ? ((((y * width) + start + k) * 3) + c) : (((((start + k) * width) + x) * 3) + c);
                        sum += source[index] * (long)weights[(o * taps) + k];
                    }
                    output[(((y * outWidth) + x) * 3) + c] = (byte)Math.Clamp(sum >> PrecisionBits, 0, 255);
                }
            }
        });
        return output;
    }

    private static ((int Start, int Count)[] Bounds, int[] Weights, int Taps) Coefficients(int inSize, int outSize)
    {
        const double support = 2.0;
        var scale = (double)inSize / outSize;
        var filterScale = Math.Max(scale, 1.0);
        var radius = support * filterScale;
        var taps = (int)Math.Ceiling(radius) * 2 + 1;
        var bounds = new (int, int)[outSize];
        var weights = new int[outSize * taps];
        var k = new double[taps];
        for (var o = 0; o < outSize; o++)
        {
            var center = (o + 0.5) * scale;
            var start = Math.Max((int)(center - radius + 0.5), 0);
            var count = Math.Min((int)(center + radius + 0.5), inSize) - start;
            var total = 0.0;
            for (var i = 0; i < count; i++)
            {
                k[i] = Bicubic((i + start - center + 0.5) / filterScale);
                total += k[i];
            }
            for (var i = 0; i < count; i++)
            {
                var w = total == 0 ? k[i] : k[i] / total;
                weights[(o * taps) + i] = (int)(w < 0 ? (w * (1 << PrecisionBits)) - 0.5 : (w * (1 << PrecisionBits)) + 0.5);
            }
            bounds[o] = (start, count);
        }
        return (bounds, weights, taps);
    }

    private static double Bicubic(double x)
    {
        const double a = -0.5;
        x = Math.Abs(x);
        return x < 1.0 ? ((((a + 2.0) * x) - (a + 3.0)) * x * x) + 1.0
            : x < 2.0 ? ((((x - 5.0) * x) + 8.0) * x - 4.0) * a
            : 0.0;
    }
}

/// <summary>Rounding of the centre-crop offset (excess / 2).</summary>
public enum CropRounding
{
    /// <summary>transformers' <c>center_crop</c>: <c>(excess) // 2</c>.</summary>
    Floor,

    /// <summary>torchvision's <c>CenterCrop</c>: <c>int(round(excess / 2.0))</c>, Python's round half to even.</summary>
    HalfToEven,
}
