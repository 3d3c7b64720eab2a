"""Published works the help texts cite, by key: author, year, title, journal and DOI.

The source studies that are manuscripts are cited by their preprint or data DOI where they carry one, as in
docs/methods.md; the Iloss study carries none and is cited as a manuscript.
"""

REFERENCES = {
    "schenk2002": "Schenk, H.J. & Jackson, R.B. (2002) The global biogeography of roots. Ecol. Monogr. 72:311-328, "
                  "doi:10.1890/0012-9615(2002)072[0311:TGBOR]2.0.CO;2.",
    "jackson1996": "Jackson, R.B. et al. (1996) A global analysis of root distributions for terrestrial biomes. "
                   "Oecologia 108:389-411, doi:10.1007/BF00333714.",
    "gale1987": "Gale, M.R. & Grigal, D.F. (1987) Vertical root distributions of northern tree species in relation "
                "to successional status. Can. J. For. Res. 17:829-834, doi:10.1139/x87-131.",
    "bishop1999": "Bishop, T.F.A., McBratney, A.B. & Laslett, G.M. (1999) Modelling soil attribute depth functions "
                  "with equal-area quadratic smoothing splines. Geoderma 91:27-45, "
                  "doi:10.1016/S0016-7061(99)00003-8.",
    "snyder1987": "Snyder, J.P. (1987) Map projections: a working manual. U.S. Geological Survey Professional "
                  "Paper 1395, doi:10.3133/pp1395.",
    "luo_bnpp": "Luo, Z. et al. Depth distribution of belowground net primary production across global biomes. "
                "Research Square preprint, doi:10.21203/rs.3.rs-65178/v3.",
    "luo_iloss": "Luo, Z. et al. A global analysis of root-derived carbon inputs (Iroot), their direct loss (Iloss) "
                 "and inputs to bulk soil from radiocarbon in 2,034 soil profiles. Manuscript.",
    "wang2024": "Wang, H. et al. (2024) Global patterns of soil organic carbon dynamics in the 20-100 cm soil "
                "profile for different ecosystems: a global meta-analysis. Manuscript for Earth Syst. Sci. Data; "
                "data doi:10.5281/zenodo.10846543.",
    "he_rh": "He, Y., Ding, J. et al. Observation-based global soil heterotrophic respiration indicates "
             "underestimated turnover and sequestration of soil carbon by terrestrial ecosystem models. Manuscript "
             "for Glob. Change Biol.; data doi:10.5061/dryad.b2rbnzs9.",
    "lu2025": "Lu, M. et al. (2025) A continental scale analysis reveals widespread root bimodality. Nat. Commun., "
              "doi:10.1038/s41467-025-60055-2.",
    "hua2022": "Hua, Q. et al. (2022) Atmospheric radiocarbon for the period 1950-2019. Radiocarbon 64:723-745, "
               "doi:10.1017/RDC.2021.95.",
    "graven2017": "Graven, H. et al. (2017) Compiled records of carbon isotopes in atmospheric CO2 for historical "
                  "simulations in CMIP6. Geosci. Model Dev. 10:4405-4417, doi:10.5194/gmd-10-4405-2017.",
    "coulston2016": "Coulston, J.W. et al. (2016) Approximating prediction uncertainty for random forest regression "
                    "models. Photogramm. Eng. Remote Sens. 82:189-197, doi:10.14358/PERS.82.3.189.",
    "meyer2021": "Meyer, H. and Pebesma, E. (2021) Predicting into unknown space? Estimating the area of "
                 "applicability of spatial prediction models. Methods Ecol. Evol. 12:1620-1633, "
                 "doi:10.1111/2041-210X.13650.",
    "kuhn2008": "Kuhn, M. (2008) Building predictive models in R using the caret package. J. Stat. Softw. 28(5), "
                "doi:10.18637/jss.v028.i05.",
}
