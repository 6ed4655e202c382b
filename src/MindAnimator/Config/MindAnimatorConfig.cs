namespace MindAnimator.Config;

/// <summary>
/// The whole resolved configuration of a run. Defaults are the paper's values (REFERENCE.md); configs/demo.yaml
/// shrinks them for the simulated brain. Bound from YAML by <see cref="ConfigBinder"/>.
/// </summary>
public sealed record MindAnimatorConfig : IValidatedSection
{
    /// <summary>A name for runs made with this config.</summary>
    public string Name { get; init; } = "mindanim";

    /// <summary>Seeds every random draw of a run.</summary>
    [Bounds(0, int.MaxValue)]
    public int Seed { get; init; } = 1234;

    /// <summary>auto picks CUDA when TorchSharp sees a GPU.</summary>
    [OneOf("auto", "cpu", "cuda")]
    public string Device { get; init; } = "auto";

    /// <summary>Intra-op threads for CPU work; 0 uses all cores.</summary>
    [Bounds(0, 1024)]
    public int Threads { get; init; }

    public DataSettings Data { get; init; } = new();

    public SimulationSettings Simulation { get; init; } = new();

    public PreprocessSettings Preprocess { get; init; } = new();

    public SemanticDecoderSettings Semantic { get; init; } = new();

    public StructureDecoderSettings Structure { get; init; } = new();

    public MotionDecoderSettings Motion { get; init; } = new();

    public FeatureSettings Features { get; init; } = new();

    public DiffusionSettings Diffusion { get; init; } = new();

    public PriorSettings Prior { get; init; } = new();

    public EvalSettings Eval { get; init; } = new();

    public PermtestSettings Permtest { get; init; } = new();

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (Data.FramesPerClip > Motion.MaxFrames)
        {
            yield return ("motion.max_frames", $"the positional table ({Motion.MaxFrames}) is shorter than data.frames_per_clip ({Data.FramesPerClip})");
        }
        if (Preprocess.SelectVoxels > Simulation.TotalVoxels && Data.Dataset == "simulated")
        {
            yield return ("preprocess.select_voxels", $"{Preprocess.SelectVoxels} voxels cannot be selected from {Simulation.TotalVoxels} simulated voxels");
        }
    }
}

/// <summary>Which dataset, and the shape of its clips.</summary>
public sealed record DataSettings
{
    [OneOf("simulated", "cc2017", "hcp", "algonauts2021", "npy")]
    public string Dataset { get; init; } = "cc2017";

    /// <summary>Folder of the dataset (import) or of the tool's data files (fmri.parquet, clips, captions).</summary>
    public string? Root { get; init; }

    public string Subject { get; init; } = "sub1";

    [Bounds(2, 64)]
    public int FramesPerClip { get; init; } = 8;

    [Bounds(0.5, 60)]
    public double FrameRateHz { get; init; } = 4;

    [Bounds(0.5, 30)]
    public double ClipSeconds { get; init; } = 2;

    /// <summary>Stored frame size (frames are square).</summary>
    [Bounds(16, 1024)]
    public int FrameSize { get; init; } = 512;

    /// <summary>Share of training clips held out for validation.</summary>
    [Bounds(0, 0.9)]
    public double ValidationFraction { get; init; } = 320.0 / 4320.0;
}

/// <summary>Values of <see cref="SimulationSettings.RetinotopicDrive"/>.</summary>
public static class RetinotopicDrives
{
    public const string ClipOnset = "clip_onset";
    public const string EveryFrame = "every_frame";
}

/// <summary>The simulated brain watching procedurally generated movies.</summary>
public sealed record SimulationSettings : IValidatedSection
{
    /// <summary>
    /// The settings (as <c>--set</c> overrides) of a brain that carries no motion information: no motion voxels, a
    /// position code blind to motion within a clip, and independent clips, since the slow BOLD response mixes each
    /// clip with the next and a continuing scene's next position reveals where the object went.
    /// </summary>
    public static readonly string[] MotionFreeOverrides =
    {
        "simulation.motion_voxels=0", $"simulation.retinotopic_drive={RetinotopicDrives.ClipOnset}", "simulation.scene_change_probability=1",
    };

    [Bounds(1, 1000)]
    public int TrainSegments { get; init; } = 18;

    [Bounds(1, 1000)]
    public int TestSegments { get; init; } = 5;

    [Bounds(2, 10000)]
    public int ClipsPerSegment { get; init; } = 240;

    [Bounds(1, 100)]
    public int TrainRepeats { get; init; } = 2;

    [Bounds(1, 100)]
    public int TestRepeats { get; init; } = 10;

    [Bounds(0, 10_000_000)]
    public int RetinotopicVoxels { get; init; } = 20000;

    [Bounds(0, 10_000_000)]
    public int MotionVoxels { get; init; } = 12000;

    [Bounds(0, 10_000_000)]
    public int SemanticVoxels { get; init; } = 8000;

    [Bounds(0, 10_000_000)]
    public int NoiseVoxels { get; init; } = 19412;

    /// <summary>Signal-to-noise ratio (signal variance / noise variance) of a single run, per voxel.</summary>
    [Bounds(0.0001, 1000)]
    public double Snr { get; init; } = 0.5;

    /// <summary>AR(1) coefficient of the noise, per TR.</summary>
    [Bounds(0, 0.99)]
    public double NoiseAr1 { get; init; } = 0.3;

    /// <summary>Amplitude of the slow polynomial drift (a baseline plus Legendre orders 1–3), in units of the noise standard deviation.</summary>
    [Bounds(0, 100)]
    public double DriftAmplitude { get; init; } = 1.0;

    [Bounds(0.5, 10)]
    public double TrSeconds { get; init; } = 2;

    /// <summary>
    /// What the retinotopic voxels see: every frame (every_frame — through the slow HRF their position code carries
    /// some of where the object went), or each clip's first frame held for the clip (clip_onset — no motion within a
    /// clip; with scene_change_probability 1 and motion_voxels 0 the brain carries no motion information at all).
    /// </summary>
    [OneOf(RetinotopicDrives.EveryFrame, RetinotopicDrives.ClipOnset)]
    public string RetinotopicDrive { get; init; } = RetinotopicDrives.EveryFrame;

    /// <summary>Probability that a new scene starts at a clip boundary.</summary>
    [Bounds(0, 1)]
    public double SceneChangeProbability { get; init; } = 0.5;

    /// <summary>Probability of a scene change in the middle of a clip.</summary>
    [Bounds(0, 1)]
    public double WithinClipChangeProbability { get; init; } = 0.05;

    /// <summary>Object categories (distinct shapes), the first N of circle, square, triangle, star, cross, ring, diamond, heart, hexagon, crescent, arrow, ellipse.</summary>
    [Bounds(2, 12)]
    public int Categories { get; init; } = 8;

    /// <summary>Volumes recorded after the last clip of a run, so lagged windows have data (240 clips + 5 = CC2017's 245).</summary>
    [Bounds(0, 100)]
    public int ExtraVolumes { get; init; } = 5;

    /// <summary>When within its TR a volume samples the BOLD signal (0 = start, 1 = end of the acquisition).</summary>
    [Bounds(0, 1)]
    public double AcquisitionTime { get; init; } = 0.5;

    public int TotalVoxels => RetinotopicVoxels + MotionVoxels + SemanticVoxels + NoiseVoxels;

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (TotalVoxels < 1)
        {
            yield return ("noise_voxels", "the simulated brain needs at least one voxel");
        }
    }
}

/// <summary>fMRI preprocessing, shared by the simulator and the real-data importers (REFERENCE.md).</summary>
public sealed record PreprocessSettings
{
    /// <summary>Polynomial order of the per-voxel detrend of each run.</summary>
    [Bounds(0, 10)]
    public int DetrendOrder { get; init; } = 4;

    public bool ZScore { get; init; } = true;

    /// <summary>Hemodynamic lag in TRs for training runs (volumes [1..240]).</summary>
    [Bounds(0, 10)]
    public int TrainLagTrs { get; init; } = 1;

    /// <summary>Hemodynamic lag in TRs for test runs (volumes [2..241]).</summary>
    [Bounds(0, 10)]
    public int TestLagTrs { get; init; } = 2;

    /// <summary>Number of voxels kept by the reliability selection.</summary>
    [Bounds(1, 1_000_000)]
    public int SelectVoxels { get; init; } = 4500;

    /// <summary>
    /// Order among voxels with equal Bonferroni-adjusted p (all capped at 1 when few voxels survive): p_value breaks
    /// ties by raw p; index keeps voxel order as the official min_indices does.
    /// </summary>
    [OneOf("p_value", "index")]
    public string SelectionTieBreak { get; init; } = "p_value";

    /// <summary>Grayordinates kept from CIFTI files (the cortical surface).</summary>
    [Bounds(1, 1_000_000)]
    public int Grayordinates { get; init; } = 59412;

    /// <summary>Standard-scale the selected voxels (train and test each with their own scaler, as the official code).</summary>
    public bool StandardScale { get; init; } = true;
}

/// <summary>The semantic decoder and its training (models/Decoder.py, train_semantic_decoder.py).</summary>
public sealed record SemanticDecoderSettings
{
    [Bounds(1, 100000)]
    public int Hidden { get; init; } = 512;

    [Bounds(0, 64)]
    public int ResidualBlocks { get; init; } = 3;

    [Bounds(1, 1_000_000)]
    public int[] HeadHidden { get; init; } = { 2048, 4096 };

    /// <summary>Caption tokens regressed (after the start token).</summary>
    [Bounds(1, 76)]
    public int Tokens { get; init; } = 19;

    [Bounds(1, 8192)]
    public int TokenDim { get; init; } = 768;

    /// <summary>Width of the CLIP embedding space of the contrastive losses.</summary>
    [Bounds(1, 8192)]
    public int ClipDim { get; init; } = 512;

    [Bounds(0, 0.99)]
    public double InputDropout { get; init; } = 0.3;

    [Bounds(0, 0.99)]
    public double BlockDropout { get; init; } = 0.15;

    [Bounds(0, 0.99)]
    public double VoxelDropout { get; init; } = 0.1;

    [Bounds(0, 100)]
    public double ContrastiveWeight { get; init; } = 0.01;

    [Bounds(0, 100)]
    public double TokenWeight { get; init; } = 0.5;

    /// <summary>EDA of the training captions, their text targets recomputed every batch (off by default; configs/cc2017.yaml turns it on as the paper).</summary>
    public CaptionAugmentationSettings CaptionAugmentation { get; init; } = new();

    public TrainingSettings Training { get; init; } = new() { LearningRate = 2e-4, Epochs = 100, LrDecay = 0.999 };
}

/// <summary>
/// Caption augmentation of semantic training (models/data_aug.py eda, applied in train_semantic_decoder.py): every
/// epoch each training caption is replaced by one EDA variant and its CLIP text embedding and SD text tokens are
/// recomputed with the encoders that made the features. Needs the WordNet 3.0 database.
/// </summary>
public sealed record CaptionAugmentationSettings
{
    /// <summary>Off keeps the stored text targets (faster; no WordNet or text encoders needed at training time).</summary>
    public bool Enabled { get; init; }

    /// <summary>Folder of the WordNet 3.0 files (index.noun, data.noun, …): Debian's wordnet-base installs them in /usr/share/wordnet.</summary>
    public string WordnetFolder { get; init; } = "/usr/share/wordnet";

    /// <summary>A file of stop words (one per line) kept out of synonym replacement; unset = NLTK's English list, as the reference.</summary>
    public string? StopWordsFile { get; init; }

    /// <summary>Share of the words replaced by synonyms.</summary>
    [Bounds(0, 1)]
    public double AlphaSr { get; init; } = 0.5;

    /// <summary>Share of the word count inserted as synonyms.</summary>
    [Bounds(0, 1)]
    public double AlphaRi { get; init; } = 0.2;

    /// <summary>Share of the word count swapped.</summary>
    [Bounds(0, 1)]
    public double AlphaRs { get; init; } = 0.2;

    /// <summary>Probability of deleting each word.</summary>
    [Bounds(0, 1)]
    public double PRd { get; init; } = 0.2;

    /// <summary>Augmented sentences per caption the variant is drawn from (with the caption itself).</summary>
    [Bounds(0, 1000)]
    public int NumAug { get; init; } = 9;
}

/// <summary>The structure decoder: fMRI → first frame's VAE latent.</summary>
public sealed record StructureDecoderSettings
{
    [Bounds(1, 100000)]
    public int Hidden { get; init; } = 1024;

    /// <summary>Width of the regressed first-frame latent (the flattened 4×64×64 VAE latent).</summary>
    [Bounds(1, 10_000_000)]
    public int OutputDim { get; init; } = 4 * 64 * 64;

    [Bounds(0, 64)]
    public int ResidualBlocks { get; init; } = 2;

    [Bounds(0, 0.99)]
    public double Dropout { get; init; } = 0.2;

    [Bounds(0, 0.99)]
    public double VoxelDropout { get; init; } = 0.2;

    [Bounds(0, 1)]
    public double L1Weight { get; init; } = 4e-6;

    [Bounds(0, 1)]
    public double L1Decay { get; init; } = 5e-5;

    /// <summary>official = the training script's compounding decay w·e^(−r·e(e−1)/2); exponential = w·e^(−r·e) as the paper writes it.</summary>
    [OneOf("official", "exponential")]
    public string L1Schedule { get; init; } = "official";

    public TrainingSettings Training { get; init; } = new() { LearningRate = 1e-6, Epochs = 400, LrDecay = 0.999 };
}

/// <summary>The Consistency Motion Generator (make_CMG_model).</summary>
public sealed record MotionDecoderSettings : IValidatedSection
{
    /// <summary>Width of a frame token (d_model): the flattened 4×64×64 VAE latent.</summary>
    [Bounds(1, 10_000_000)]
    public int ModelDim { get; init; } = 4 * 64 * 64;

    [Bounds(1, 64)]
    public int Layers { get; init; } = 2;

    [Bounds(1, 65536)]
    public int FeedForward { get; init; } = 768;

    [Bounds(1, 64)]
    public int Heads { get; init; } = 4;

    /// <summary>Width of the Q/K/V projections (split into heads).</summary>
    [Bounds(1, 65536)]
    public int AttentionDim { get; init; } = 1024;

    [Bounds(0, 0.99)]
    public double Dropout { get; init; } = 0.2;

    /// <summary>Dropout on the attention probabilities (the reference's MultiHeadedAttention default).</summary>
    [Bounds(0, 0.99)]
    public double AttentionDropout { get; init; } = 0.15;

    /// <summary>Hidden width of the fMRI encoder MLP (BrainEncoder h).</summary>
    [Bounds(1, 100000)]
    public int EncoderHidden { get; init; } = 768;

    [Bounds(0, 64)]
    public int EncoderBlocks { get; init; } = 1;

    [Bounds(0, 0.99)]
    public double EncoderInputDropout { get; init; } = 0.3;

    [Bounds(0, 0.99)]
    public double EncoderBlockDropout { get; init; } = 0.15;

    /// <summary>Length of the sinusoidal positional table (frames per clip must not exceed it).</summary>
    [Bounds(1, 100000)]
    public int MaxFrames { get; init; } = 10;

    /// <summary>Training: each visible earlier frame (but frame 0) is kept with this probability.</summary>
    [Bounds(0, 1)]
    public double MaskRatio { get; init; } = 0.6;

    /// <summary>official = greedy_decode's mask_ratio 0 (frames ≥ 2 see frame 0 only); causal = plain causal.</summary>
    [OneOf("official", "causal")]
    public string InferenceMask { get; init; } = "official";

    /// <summary>Draw the training mask once per run, as the official code does (exact reproduction only).</summary>
    public bool FixedTrainingMask { get; init; }

    [Bounds(0, 100000)]
    public int WarmupSteps { get; init; } = 50;

    [Bounds(0, 1000)]
    public double NoamFactor { get; init; } = 1;

    [Bounds(0, 1)]
    public double L1Weight { get; init; } = 6e-7;

    [Bounds(0, 1)]
    public double L1Decay { get; init; } = 0.001;

    /// <summary>official = the training script's compounding decay w·e^(−r·e(e−1)/2); exponential = w·e^(−r·e).</summary>
    [OneOf("official", "exponential")]
    public string L1Schedule { get; init; } = "official";

    /// <summary>The learning rate comes from the Noam schedule; training.learning_rate is unused.</summary>
    public TrainingSettings Training { get; init; } = new() { LearningRate = 0, Epochs = 300, AdamBeta2 = 0.98, AdamEpsilon = 1e-9 };

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (AttentionDim % Heads != 0)
        {
            yield return ("attention_dim", $"{AttentionDim} must be a multiple of heads ({Heads}): heads × head width = the projection width");
        }
    }
}

/// <summary>Optimisation settings shared by the decoders.</summary>
public sealed record TrainingSettings
{
    [Bounds(0, 10)]
    public double LearningRate { get; init; } = 1e-4;

    /// <summary>Multiplicative learning-rate decay per epoch (1 = none).</summary>
    [Bounds(0, 1)]
    public double LrDecay { get; init; } = 1;

    [Bounds(1, 100000)]
    public int Epochs { get; init; } = 100;

    [Bounds(1, 100000)]
    public int BatchSize { get; init; } = 64;

    /// <summary>Stop when validation loss has not improved for this many epochs (0 = never).</summary>
    [Bounds(0, 100000)]
    public int EarlyStoppingPatience { get; init; }

    [Bounds(0, 0.999999)]
    public double AdamBeta1 { get; init; } = 0.9;

    [Bounds(0, 0.999999)]
    public double AdamBeta2 { get; init; } = 0.999;

    [Bounds(0, 1)]
    public double AdamEpsilon { get; init; } = 1e-8;

    /// <summary>Epoch whose checkpoint is used; 0 = the best validation epoch.</summary>
    [Bounds(0, 100000)]
    public int UseEpoch { get; init; }
}

/// <summary>The decoders' training targets per clip (Feature_extraction/ of the official code).</summary>
public sealed record FeatureSettings
{
    /// <summary>A transformers CLIP folder (config.json with text_config and vision_config, tokenizer files, weights), e.g. openai/clip-vit-base-patch32.</summary>
    public string? ClipFolder { get; init; }

    /// <summary>Frame whose CLIP image embedding is the contrastive target: 3 = source frame 24 of 60, the official 0000024.jpg.</summary>
    [Bounds(0, 63)]
    public int ImageFrame { get; init; } = 3;

    /// <summary>Caption length fed to SD's text encoder (start token + the regressed tokens), as the official max_length 20.</summary>
    [Bounds(2, 77)]
    public int CaptionTokens { get; init; } = 20;

    /// <summary>Use the VAE posterior's mean instead of a seeded sample (the official code samples).</summary>
    public bool LatentMean { get; init; }

    [Bounds(1, 4096)]
    public int BatchSize { get; init; } = 16;

    /// <summary>Clips per stored chunk; a resumed run redoes at most one chunk.</summary>
    [Bounds(1, 100000)]
    public int ChunkClips { get; init; } = 256;
}

/// <summary>Video generation with the inflated, frozen Stable Diffusion.</summary>
public sealed record DiffusionSettings
{
    /// <summary>A diffusers-format Stable Diffusion v1.x folder; null = the embedded demo prior.</summary>
    public string? SdFolder { get; init; }

    [Bounds(1, 1000)]
    public int InversionSteps { get; init; } = 50;

    /// <summary>Timestep at which the inverted latents are re-noised (DDPM add_noise).</summary>
    [Bounds(0, 999)]
    public int RenoiseTimestep { get; init; } = 200;

    [Bounds(1, 1000)]
    public int SamplingSteps { get; init; } = 50;

    [Bounds(0, 100)]
    public double GuidanceScale { get; init; } = 12.5;

    public string NegativePrompt { get; init; } = "Not like the real scene, Distorted and blurred body, blurry,bad proportions,out of frame,disfigured";

    [Bounds(1, 77)]
    public int NegativePromptTokens { get; init; } = 20;

    [Bounds(0, 1)]
    public double Eta { get; init; }

    [OneOf("float32", "float16", "bfloat16")]
    public string Dtype { get; init; } = "float32";

    [Bounds(1, 1024)]
    public int BatchSize { get; init; } = 1;
}

/// <summary>
/// The demo's generative prior (`mindanim train prior`): a small Stable-Diffusion-shaped model trained on single frames
/// and their captions. Widths are sized for a 2-core CPU at 64×64 frames; text_hidden and projection_dim must equal
/// semantic.token_dim and semantic.clip_dim for the decoders trained on its features.
/// </summary>
public sealed record PriorSettings
{
    /// <summary>VAE block widths; the latent side is the frame side / 2^(blocks − 1).</summary>
    [Bounds(1, 4096)]
    public int[] VaeChannels { get; init; } = { 16, 32, 64 };

    [Bounds(1, 16)]
    public int VaeLayersPerBlock { get; init; } = 1;

    [Bounds(1, 64)]
    public int LatentChannels { get; init; } = 4;

    /// <summary>GroupNorm groups of the VAE and the UNet (must divide every width).</summary>
    [Bounds(1, 1024)]
    public int NormGroups { get; init; } = 8;

    /// <summary>Weight of the KL term of the VAE loss (latent-diffusion's 1e-6).</summary>
    [Bounds(0, 1)]
    public double KlWeight { get; init; } = 1e-6;

    /// <summary>Latent scale stored in vae/config.json; 0 = measured after VAE training (1 / std of the latents).</summary>
    [Bounds(0, 100)]
    public double ScalingFactor { get; init; }

    [Bounds(1, 4096)]
    public int TextHidden { get; init; } = 32;

    [Bounds(1, 64)]
    public int TextLayers { get; init; } = 2;

    [Bounds(1, 64)]
    public int TextHeads { get; init; } = 2;

    [Bounds(1, 16384)]
    public int TextIntermediate { get; init; } = 128;

    /// <summary>Width of the shared CLIP embedding space.</summary>
    [Bounds(1, 4096)]
    public int ProjectionDim { get; init; } = 32;

    [Bounds(1, 4096)]
    public int VisionHidden { get; init; } = 64;

    [Bounds(1, 64)]
    public int VisionLayers { get; init; } = 2;

    [Bounds(1, 64)]
    public int VisionHeads { get; init; } = 2;

    [Bounds(1, 16384)]
    public int VisionIntermediate { get; init; } = 128;

    /// <summary>Side of the vision tower's square patches (must divide the frame size).</summary>
    [Bounds(1, 512)]
    public int PatchSize { get; init; } = 8;

    [Bounds(1, 4096)]
    public int[] UnetChannels { get; init; } = { 32, 64 };

    [Bounds(1, 16)]
    public int UnetLayersPerBlock { get; init; } = 1;

    /// <summary>Attention heads per UNet block (diffusers' attention_head_dim).</summary>
    [Bounds(1, 64)]
    public int UnetHeads { get; init; } = 2;

    /// <summary>Share of UNet training captions replaced by the empty caption (for classifier-free guidance).</summary>
    [Bounds(0, 1)]
    public double CaptionDropout { get; init; } = 0.1;

    [Bounds(0, 10_000_000)]
    public int VaeSteps { get; init; } = 1500;

    [Bounds(0, 10_000_000)]
    public int ClipSteps { get; init; } = 2000;

    [Bounds(0, 10_000_000)]
    public int UnetSteps { get; init; } = 4000;

    [Bounds(1, 4096)]
    public int BatchSize { get; init; } = 32;

    [Bounds(0, 10)]
    public double VaeLearningRate { get; init; } = 5e-4;

    [Bounds(0, 10)]
    public double ClipLearningRate { get; init; } = 5e-4;

    [Bounds(0, 10)]
    public double UnetLearningRate { get; init; } = 5e-4;

    /// <summary>Log the running loss every this many steps.</summary>
    [Bounds(1, 1_000_000)]
    public int LogEvery { get; init; } = 100;
}

/// <summary>The metric suite (Evaluation_Metrics/).</summary>
public sealed record EvalSettings
{
    public string[] Metrics { get; init; } = { "ssim", "psnr", "hue-pcc", "clip-pcc", "2way-i", "50way-i", "2way-v", "50way-v", "vifi", "epe" };

    [Bounds(1, 100000)]
    public int Trials { get; init; } = 20;

    [Bounds(0, 1000000)]
    public int BootstrapResamples { get; init; } = 1000;

    [Bounds(0, 1)]
    public double VifiGate { get; init; } = 0.6;

    [Bounds(0.5, 0.999)]
    public double ConfidenceLevel { get; init; } = 0.95;

    /// <summary>Local folders of the encoders and classifiers the model-based metrics need.</summary>
    public EvalModelSettings Models { get; init; } = new();
}

/// <summary>Local model folders for `eval` (nothing is downloaded at run time).</summary>
public sealed record EvalModelSettings
{
    /// <summary>CLIP ViT-B/32 (openai/clip-vit-base-patch32) for clip-pcc.</summary>
    public string? ClipImage { get; init; }

    /// <summary>ViFi-CLIP ViT-B/16 (Kinetics-400) for vifi and the clip-pcc gate.</summary>
    public string? Vifi { get; init; }

    /// <summary>ViT-base-patch16-224, ImageNet (google/vit-base-patch16-224) for 2way-i / 50way-i.</summary>
    public string? ImageClassifier { get; init; }

    /// <summary>VideoMAE-base fine-tuned on Kinetics-400 (MCG-NJU/videomae-base-finetuned-kinetics) for 2way-v / 50way-v.</summary>
    public string? VideoClassifier { get; init; }
}

/// <summary>The frame-shuffle permutation test (Explainable_analysis/shuffle_test).</summary>
public sealed record PermtestSettings
{
    [Bounds(1, 1000000)]
    public int Permutations { get; init; } = 100;

    [Bounds(1, 1000)]
    public int Repeats { get; init; } = 5;

    /// <summary>epe (the official test's main metric, lower is better), ssim or psnr (frame by frame, higher is better).</summary>
    [OneOf("epe", "ssim", "psnr")]
    public string Metric { get; init; } = "epe";
}
