using MindAnimator.Diffusion;

namespace MindAnimator.Models.Diffusers;

/// <summary>
/// The fields of a diffusers `vae/config.json` that shape an <see cref="AutoencoderKl"/>
/// (defaults as in diffusers 0.11.1 `AutoencoderKL.__init__`).
/// </summary>
public sealed record AutoencoderKlConfig
{
    /// <summary>The latent scale of Stable Diffusion v1.x; diffusers 0.11.1 configs do not carry it.</summary>
    public const double StableDiffusionScalingFactor = 0.18215;

    /// <summary>The VAE of Stable Diffusion v1.x (its published vae/config.json).</summary>
    public static AutoencoderKlConfig StableDiffusionV15 { get; } = new()
    {
        BlockOutChannels = new[] { 128, 256, 512, 512 },
        LayersPerBlock = 2,
        SampleSize = 512,
    };

    public int InChannels { get; init; } = 3;

    public int OutChannels { get; init; } = 3;

    public IReadOnlyList<int> BlockOutChannels { get; init; } = new[] { 64 };

    public int LayersPerBlock { get; init; } = 1;

    public int LatentChannels { get; init; } = 4;

    public int NormNumGroups { get; init; } = 32;

    public int SampleSize { get; init; } = 32;

    /// <summary>Latents are multiplied by this after encoding and divided by it before decoding.</summary>
    public double ScalingFactor { get; init; } = StableDiffusionScalingFactor;

    /// <summary>Image size / latent size.</summary>
    public int DownscaleFactor => 1 << (BlockOutChannels.Count - 1);

    /// <summary>Reads and validates a diffusers VAE config.json.</summary>
    public static AutoencoderKlConfig Load(string path) => From(DiffusersConfig.Load(path));

    public static AutoencoderKlConfig From(DiffusersConfig c)
    {
        var blocks = c.GetIntArray("block_out_channels", new[] { 64 });
        if (blocks.Length == 0 || blocks.Any(b => b <= 0))
        {
            throw c.Unsupported("block_out_channels", $"[{string.Join(", ", blocks)}]", "a non-empty list of positive channel counts");
        }
        var down = c.GetStringArray("down_block_types", new[] { "DownEncoderBlock2D" });
        var up = c.GetStringArray("up_block_types", new[] { "UpDecoderBlock2D" });
        foreach (var (field, types, expected) in new[] { ("down_block_types", down, "DownEncoderBlock2D"), ("up_block_types", up, "UpDecoderBlock2D") })
        {
            if (types.Length != blocks.Length || types.Any(t => t != expected))
            {
                throw c.Unsupported(field, $"[{string.Join(", ", types)}]", $"{blocks.Length} × \"{expected}\" (one per block_out_channels entry)");
            }
        }
        var act = c.GetString("act_fn", "silu");
        c.RequireOneOf("act_fn", act, "silu", "swish");
        var groups = c.GetInt("norm_num_groups", 32);
        if (groups <= 0 || blocks.Any(b => b % groups != 0))
        {
            throw c.Unsupported("norm_num_groups", groups.ToString(System.Globalization.CultureInfo.InvariantCulture), "a divisor of every block_out_channels entry");
        }
        // Later diffusers releases added switches; accept them only at the values SD v1.x uses.
        if (c.Has("use_quant_conv"))
        {
            c.RequireOneOf("use_quant_conv", c.GetBool("use_quant_conv"), true);
        }
        if (c.Has("use_post_quant_conv"))
        {
            c.RequireOneOf("use_post_quant_conv", c.GetBool("use_post_quant_conv"), true);
        }
        if (c.Has("mid_block_add_attention"))
        {
            c.RequireOneOf("mid_block_add_attention", c.GetBool("mid_block_add_attention"), true);
        }
        if (c.Has("shift_factor"))
        {
            c.RequireOneOf("shift_factor", c.GetDouble("shift_factor"), 0.0);
        }
        return new AutoencoderKlConfig
        {
            InChannels = c.GetInt("in_channels", 3),
            OutChannels = c.GetInt("out_channels", 3),
            BlockOutChannels = blocks,
            LayersPerBlock = c.GetInt("layers_per_block", 1),
            LatentChannels = c.GetInt("latent_channels", 4),
            NormNumGroups = groups,
            SampleSize = c.GetInt("sample_size", 32),
            ScalingFactor = c.GetDouble("scaling_factor", StableDiffusionScalingFactor),
        };
    }
}
